#include "tests/tools/simulator/webhook_receiver.hpp"

#include "http/twilio_signature.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <stdexcept>

namespace voxlog::sim::testing {

WebhookReceiver::WebhookReceiver(std::string auth_token) : auth_token_(std::move(auth_token)) {
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener_, 64) != 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("webhook receiver: cannot listen on loopback");
  }
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { serve(); });
}

WebhookReceiver::~WebhookReceiver() {
  stopping_ = true;
  thread_.join();
  ::close(listener_);
}

std::vector<ReceivedWebhook> WebhookReceiver::received() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return received_;
}

void WebhookReceiver::serve() {
  while (!stopping_) {
    pollfd ready{listener_, POLLIN, 0};
    if (::poll(&ready, 1, 20) <= 0) continue;
    int connection = ::accept(listener_, nullptr, nullptr);
    if (connection >= 0) handle(connection);
  }
}

void WebhookReceiver::handle(int connection) {
  std::string data;
  char buffer[8192];
  size_t header_end = std::string::npos;
  size_t content_length = 0;
  while (true) {
    if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) break;
    ssize_t n = ::recv(connection, buffer, sizeof buffer, 0);
    if (n <= 0) {
      ::close(connection);
      return;
    }
    data.append(buffer, static_cast<size_t>(n));
    if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != std::string::npos) {
      std::string headers = data.substr(0, header_end);
      for (char& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t at = headers.find("content-length:");
      if (at != std::string::npos) content_length = std::stoul(headers.substr(at + 15));
    }
  }
  ReceivedWebhook webhook;
  size_t first_space = data.find(' ');
  webhook.target = data.substr(first_space + 1, data.find(' ', first_space + 1) - first_space - 1);
  webhook.full_url = base_url() + webhook.target;
  webhook.body = data.substr(header_end + 4, content_length);
  std::string lowered = data.substr(0, header_end);
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t at = lowered.find("\r\nx-twilio-signature:");
  if (at != std::string::npos) {
    size_t begin = data.find_first_not_of(' ', at + 21);
    webhook.signature = data.substr(begin, data.find("\r\n", begin) - begin);
  }
  webhook.signature_valid =
      twilio::verify_json(auth_token_, webhook.signature, webhook.full_url, webhook.body);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    received_.push_back(std::move(webhook));
  }
  const char kReply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
  ::send(connection, kReply, sizeof kReply - 1, MSG_NOSIGNAL);
  ::close(connection);
}

}  // namespace voxlog::sim::testing
