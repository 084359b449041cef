// Fuzz target: the Engine.IO v4 / Socket.IO v5 packets a client sends (http/compat/socketio_events.hpp):
// a polling POST's payload split at 0x1E, each packet read as EngineSession reads it (2 ping, 4 message,
// 40 CONNECT with its namespace and auth, the auth's resume offset), and the replies built from it.
// Properties: nothing crashes; splitting is stable (split(join(split(x))) == split(x)); a CONNECT that
// parses names a namespace starting with '/', and its auth is an object within kMaxJsonDepth.
#include <string>

#include "eventstore/json_fields.hpp"
#include "http/compat/socketio_events.hpp"
#include "tests/fuzz/fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace sio = voxlog::sio;
  std::vector<std::string> packets = sio::split_payload(as_text(data, size));
  FUZZ_CHECK(sio::split_payload(sio::join_payload(packets)) == packets);
  for (const std::string& packet : packets) {
    FUZZ_CHECK(!packet.empty() && packet.find(sio::kRecordSeparator) == std::string::npos);
    if (packet[0] != '4' || packet.size() < 2 || packet[1] != '0') continue;
    auto request = sio::parse_connect(std::string_view(packet).substr(1));
    if (!request) {
      (void)sio::connect_error_packet("/", request.status().message());
      continue;
    }
    FUZZ_CHECK(!request->nsp.empty() && request->nsp[0] == '/');
    FUZZ_CHECK(request->auth.is_object());
    // The namespace before the comma is free text ("/[[[" is a valid, unknown namespace): only the auth is
    // JSON.
    FUZZ_CHECK(voxlog::json_depth_within(request->auth.dump()));
    auto offset = sio::resume_offset(request->auth);
    std::string reply = offset ? sio::connect_ok_packet("sid", "pid")
                               : sio::connect_error_packet(request->nsp, offset.status().message());
    FUZZ_CHECK(reply.size() > 2 && reply[0] == '4');
    // What a connected client then receives: its auth echoed back inside an event is still one packet.
    std::string event = sio::event_packet({"flowUpdate", request->auth}, offset && *offset ? **offset : 0);
    FUZZ_CHECK(sio::split_payload(event).size() == 1);
  }
  return 0;
}
