// The client side of HTTP/1.1 and WebSocket, as little as the server benchmarks need (ws_latency).
//
// Contract: `connect_loopback` opens a blocking TCP connection (TCP_NODELAY) to 127.0.0.1:`port`.
// `open_websocket` performs the RFC 6455 opening handshake on a connected socket and checks the 101
// answer; bytes the server sent after its handshake response are returned for the frame parser.
// `next_frame` and `next_http_response` are incremental parsers over a receive buffer: each returns how
// many bytes the first complete frame / response takes (0 while it is incomplete, -1 when the bytes
// cannot be one), so a caller appends what read() gives and consumes whole messages. Only what a
// server sends is parsed: unmasked frames, responses framed by Content-Length. `client_frame` builds
// what a client sends (voxlogd pings its subscribers and closes those that never answer).
//
// Thread-safety: pure functions and calls on the caller's own sockets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace voxlog::bench {

// A connected socket, or -1 with errno set. `receive_buffer` > 0 sets SO_RCVBUF before connecting (a small
// one makes a client that stops reading fill the server's queue quickly).
int connect_loopback(int port, int receive_buffer = 0);

// "" on success, else what went wrong. `leftover` receives any bytes that followed the 101 response.
std::string open_websocket(int fd, int port, const std::string& path, std::string& leftover);

struct Frame {
  int opcode = 0;  // 1 text, 2 binary, 8 close, 9 ping, 10 pong
  bool final = true;
  std::string_view payload;  // into the parsed buffer
};

long next_frame(std::string_view buffer, Frame& frame);

// A masked client frame (RFC 6455 5.3: every client frame is masked), e.g. the pong answering a ping.
std::string client_frame(int opcode, std::string_view payload);

// Socket.IO over Engine.IO v4 on a WebSocket (what socket.io-client does with transports: ["websocket"]):
// the upgrade at /socket.io/?EIO=4&transport=websocket, the server's open packet, a CONNECT to the default
// namespace ("40", or 40{"token":...} when `token` is set) and its answer. Blocking; "" on success.
std::string open_socketio(int fd, int port, const std::string& token, std::string& leftover);

// `status` receives the status code of the parsed response.
long next_http_response(std::string_view buffer, int& status);

}  // namespace voxlog::bench
