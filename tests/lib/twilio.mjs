// Signing test requests exactly as Twilio does, with the official `twilio` npm package (not our code).
import twilio from 'twilio';

// A form-encoded status callback: returns the headers to send.
export function signForm(authToken, url, params) {
  return { 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(authToken, url, params) };
}

// A JSON body (Studio HTTP widget): Twilio adds bodySHA256 to the URL and signs the URL alone.
export function signJson(authToken, url, rawBody) {
  const hash = twilio.getExpectedBodyHash(rawBody);
  const signedUrl = url + (url.includes('?') ? '&' : '?') + 'bodySHA256=' + hash;
  return { url: signedUrl, headers: { 'X-Twilio-Signature': twilio.getExpectedTwilioSignature(authToken, signedUrl, {}) } };
}
