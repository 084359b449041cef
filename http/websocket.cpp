#include "http/websocket.hpp"

#include <atomic>

#include "actors/broadcaster.hpp"

namespace voxlog {
namespace {

using http::rws::ws_handle_t;
namespace rws = http::rws;

class WebSocketSubscriber final : public Subscriber {
 public:
  WebSocketSubscriber(ws_handle_t ws, std::size_t max_queue, std::shared_ptr<std::atomic<bool>> heard)
      : ws_(std::move(ws)), id_(next_subscriber_id()), max_queue_(max_queue), heard_(std::move(heard)) {}
  ~WebSocketSubscriber() override {
    if (ws_) ws_->kill();
  }

  std::uint64_t id() const override { return id_; }

  bool push(const Change& change) override {
    if (broken_->load() || unsent_->load() >= max_queue_) return false;
    unsent_->fetch_add(1);
    auto unsent = unsent_;
    auto broken = broken_;
    ws_->send_message(rws::final_frame, rws::opcode_t::text_frame,
                      restinio::writable_item_t{change.ws_json()},
                      [unsent, broken](const asio::error_code& ec) {
                        unsent->fetch_sub(1);
                        if (ec) broken->store(true);
                      });
    return true;
  }

  // Any frame from the client since the last heartbeat (the io thread sets `heard_`) proves it alive;
  // the ping asks for one before the next heartbeat.
  bool heartbeat() override {
    if (!ws_ || !heard_->exchange(false)) return false;
    ws_->send_message(rws::final_frame, rws::opcode_t::ping_frame, restinio::writable_item_t{std::string()});
    return true;
  }

  std::size_t room() const override {
    std::size_t unsent = unsent_->load();
    return broken_->load() || unsent >= max_queue_ ? 0 : max_queue_ - unsent;
  }

  void close(std::uint16_t code, const std::string& reason) override {
    if (!ws_) return;
    std::string payload =
        rws::status_code_to_bin(static_cast<rws::status_code_t>(code)) + reason.substr(0, 120);
    ws_->send_message(rws::final_frame, rws::opcode_t::connection_close_frame,
                      restinio::writable_item_t{payload});
    ws_->shutdown();
    ws_.reset();
  }

 private:
  ws_handle_t ws_;
  std::uint64_t id_;
  std::size_t max_queue_;
  std::shared_ptr<std::atomic<std::size_t>> unsent_ = std::make_shared<std::atomic<std::size_t>>(0);
  std::shared_ptr<std::atomic<bool>> broken_ = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<std::atomic<bool>> heard_;
};

}  // namespace

restinio::request_handling_status_t upgrade_to_websocket(const restinio::request_handle_t& req,
                                                         broadcaster_actor broadcaster, std::uint64_t after,
                                                         std::size_t max_queue) {
  if (restinio::http_connection_header_t::upgrade != req->header().connection())
    return restinio::request_rejected();
  auto id_holder = std::make_shared<std::uint64_t>(0);
  auto heard = std::make_shared<std::atomic<bool>>(true);
  auto ws =
      rws::upgrade<http::Traits>(*req, rws::activation_t::immediate,
                                 [broadcaster, id_holder, heard](ws_handle_t wsh, rws::message_handle_t m) {
                                   heard->store(true);
                                   if (m->opcode() == rws::opcode_t::ping_frame) {
                                     auto pong = *m;
                                     pong.set_opcode(rws::opcode_t::pong_frame);
                                     wsh->send_message(pong);
                                   } else if (m->opcode() == rws::opcode_t::connection_close_frame) {
                                     caf::anon_send(broadcaster, leave_atom::value, *id_holder);
                                   }
                                 });
  auto subscriber = std::make_shared<WebSocketSubscriber>(std::move(ws), max_queue, heard);
  *id_holder = subscriber->id();
  caf::anon_send(broadcaster, join_atom::value, SubscriberPtr(std::move(subscriber)), after);
  return restinio::request_accepted();
}

}  // namespace voxlog
