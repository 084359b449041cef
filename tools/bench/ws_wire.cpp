#include "tools/bench/ws_wire.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace voxlog::bench {
namespace {

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

// The value of header `name` in an HTTP head (status line and headers, CRLF separated), or npos-empty.
std::string_view header_value(std::string_view head, std::string_view name) {
  std::size_t line = head.find("\r\n");
  while (line != std::string_view::npos && line + 2 < head.size()) {
    std::size_t begin = line + 2;
    std::size_t end = head.find("\r\n", begin);
    std::string_view field =
        head.substr(begin, end == std::string_view::npos ? head.size() - begin : end - begin);
    if (starts_with_ci(field, name) && field.size() > name.size() && field[name.size()] == ':') {
      std::string_view value = field.substr(name.size() + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      return value;
    }
    line = end;
  }
  return {};
}

int status_of(std::string_view head) {
  // "HTTP/1.1 200 OK"
  if (head.size() < 12 || head.substr(0, 5) != "HTTP/") return -1;
  return std::atoi(std::string(head.substr(9, 3)).c_str());
}

}  // namespace

int connect_loopback(int port, int receive_buffer) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  if (receive_buffer > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

std::string open_websocket(int fd, int port, const std::string& path, std::string& leftover) {
  // The key only has to be 16 bytes in base64; the server's accept value is not checked (loopback bench).
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
    return std::string("cannot send the upgrade request: ") + std::strerror(errno);
  std::string received;
  char chunk[4096];
  std::size_t head_end;
  while ((head_end = received.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return "the server closed the connection during the WebSocket handshake";
    received.append(chunk, static_cast<std::size_t>(n));
  }
  std::string_view head(received.data(), head_end);
  if (status_of(head) != 101)
    return "the WebSocket upgrade was refused: " + std::string(head.substr(0, head.find('\r')));
  if (header_value(head, "Sec-WebSocket-Accept").empty()) return "the 101 answer has no Sec-WebSocket-Accept";
  leftover = received.substr(head_end + 4);
  return "";
}

long next_frame(std::string_view buffer, Frame& frame) {
  if (buffer.size() < 2) return 0;
  const auto* b = reinterpret_cast<const unsigned char*>(buffer.data());
  if (b[1] & 0x80) return -1;  // a server never masks its frames
  std::uint64_t length = b[1] & 0x7f;
  std::size_t header = 2;
  if (length == 126) {
    if (buffer.size() < 4) return 0;
    length = (std::uint64_t{b[2]} << 8) | b[3];
    header = 4;
  } else if (length == 127) {
    if (buffer.size() < 10) return 0;
    length = 0;
    for (int i = 0; i < 8; ++i) length = (length << 8) | b[2 + i];
    header = 10;
  }
  if (length > (1u << 30)) return -1;
  if (buffer.size() < header + length) return 0;
  frame.final = (b[0] & 0x80) != 0;
  frame.opcode = b[0] & 0x0f;
  frame.payload = buffer.substr(header, length);
  return static_cast<long>(header + length);
}

std::string client_frame(int opcode, std::string_view payload) {
  static const unsigned char mask[4] = {0x5a, 0x17, 0xc3, 0x2e};
  std::string frame;
  frame += static_cast<char>(0x80 | (opcode & 0x0f));
  if (payload.size() < 126) {
    frame += static_cast<char>(0x80 | payload.size());
  } else {  // control frames never get here; data frames of a benchmark stay below 64 KiB
    frame += static_cast<char>(0x80 | 126);
    frame += static_cast<char>((payload.size() >> 8) & 0xff);
    frame += static_cast<char>(payload.size() & 0xff);
  }
  frame.append(reinterpret_cast<const char*>(mask), 4);
  for (std::size_t i = 0; i < payload.size(); ++i)
    frame += static_cast<char>(static_cast<unsigned char>(payload[i]) ^ mask[i % 4]);
  return frame;
}

namespace {

// Reads until a whole text frame is in `buffer`; answers nothing. "" and the payload, or what went wrong.
std::string next_text_blocking(int fd, std::string& buffer, std::string& text) {
  char chunk[4096];
  for (;;) {
    Frame frame;
    long used = next_frame(buffer, frame);
    if (used < 0) return "a malformed frame";
    if (used > 0) {
      bool is_text = frame.opcode == 1;
      text.assign(frame.payload);
      buffer.erase(0, static_cast<std::size_t>(used));
      if (is_text) return "";
      if (frame.opcode == 8) return "the server closed the connection";
      continue;
    }
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return "the server closed the connection";
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

}  // namespace

std::string open_socketio(int fd, int port, const std::string& token, std::string& leftover) {
  std::string error = open_websocket(fd, port, "/socket.io/?EIO=4&transport=websocket", leftover);
  if (!error.empty()) return error;
  std::string text;
  if (!(error = next_text_blocking(fd, leftover, text)).empty()) return error;
  if (text.empty() || text[0] != '0') return "expected an Engine.IO open packet, got: " + text.substr(0, 80);
  std::string connect = client_frame(1, token.empty() ? "40" : "40{\"token\":\"" + token + "\"}");
  if (::send(fd, connect.data(), connect.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(connect.size()))
    return std::string("cannot send CONNECT: ") + std::strerror(errno);
  for (;;) {  // an Engine.IO ping may come first
    if (!(error = next_text_blocking(fd, leftover, text)).empty()) return error;
    if (text.rfind("40", 0) == 0) return "";
    if (text.rfind("44", 0) == 0) return "CONNECT refused: " + text.substr(0, 120);
  }
}

long next_http_response(std::string_view buffer, int& status) {
  std::size_t head_end = buffer.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return 0;
  std::string_view head = buffer.substr(0, head_end);
  status = status_of(head);
  if (status < 0) return -1;
  std::string_view length_text = header_value(head, "Content-Length");
  if (length_text.empty()) return -1;  // every answer we wait for is framed by Content-Length
  long length = std::atol(std::string(length_text).c_str());
  std::size_t total = head_end + 4 + static_cast<std::size_t>(length);
  return buffer.size() < total ? 0 : static_cast<long>(total);
}

}  // namespace voxlog::bench
