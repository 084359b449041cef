// The simulator's HTTP transport: the only translation unit that includes RESTinio.
#include "tools/simulator/simulator.hpp"

#include "http/reason_phrase.hpp"
#include "tools/simulator/flow_walker.hpp"
#include "tools/simulator/studio_service.hpp"

#include <curl/curl.h>
#include <restinio/all.hpp>
#include <restinio/helpers/http_field_parsers/basic_auth.hpp>

#include <fstream>
#include <future>
#include <sstream>
#include <thread>

namespace voxlog::sim {
namespace {

using ServerTraits =
    restinio::single_thread_traits_t<restinio::asio_timer_manager_t, restinio::null_logger_t>;
using Server = restinio::http_server_t<ServerTraits>;

twilio::FormParams to_params(const restinio::query_string_params_t& parsed) {
  twilio::FormParams params;
  for (const auto& [key, value] : parsed) params.emplace_back(std::string(key), std::string(value));
  return params;
}

ApiRequest to_api_request(const restinio::request_t& req) {
  ApiRequest request;
  request.method = req.header().method().c_str();
  request.path = std::string(req.header().path());
  request.body = req.body();
  auto query = restinio::try_parse_query<restinio::parse_query_traits::relaxed>(req.header().query());
  if (query) request.query = to_params(*query);
  std::string content_type = req.header().get_field_or(restinio::http_field::content_type, "");
  if (content_type.find("application/x-www-form-urlencoded") != std::string::npos) {
    auto form = restinio::try_parse_query<restinio::parse_query_traits::relaxed>(req.body());
    if (form) request.form = to_params(*form);
  }
  auto auth =
      restinio::http_field_parsers::basic_auth::try_extract_params(req, restinio::http_field::authorization);
  if (auth) request.basic_auth = std::make_pair(auth->username, auth->password);
  return request;
}

void send_reply(const restinio::request_handle_t& req, const ApiReply& reply) {
  std::string body = reply.body.is_null() ? "" : reply.body.dump();
  restinio::http_status_line_t status_line{
      restinio::http_status_code_t{static_cast<std::uint16_t>(reply.status)}, reason_phrase(reply.status)};
  if (reply.drop_connection) {
    // The work is done but the answer is lost: headers promise a body that never fully arrives.
    req->create_response<restinio::user_controlled_output_t>(status_line)
        .append_header(restinio::http_field::content_type, "application/json; charset=utf-8")
        .set_content_length(body.size() + 64)
        .set_body(body.substr(0, body.size() / 2))
        .connection_close()
        .done();
    return;
  }
  req->create_response(status_line)
      .append_header(restinio::http_field::content_type, "application/json; charset=utf-8")
      .set_body(std::move(body))
      .done();
}

}  // namespace

struct Simulator::Running {
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> keep_running{io.get_executor()};
  std::unique_ptr<StudioService> service;
  std::unique_ptr<Server> server;
  std::thread io_thread;
  int port = 0;
  std::string base_url;
  std::string account_sid;

  ~Running() {
    if (server) {
      std::promise<void> closed;
      server->close_async([&closed] { closed.set_value(); },
                          [&closed](std::exception_ptr) { closed.set_value(); });
      closed.get_future().wait();
    }
    keep_running.reset();
    io.stop();
    if (io_thread.joinable()) io_thread.join();
    server.reset();
    service.reset();  // joins the workers; webhooks in flight finish first
  }
};

Result<std::unique_ptr<Simulator>> Simulator::start(SimulatorOptions options) {
  static std::once_flag curl_initialised;
  std::call_once(curl_initialised, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (options.auth_token.empty())
    return invalid_argument("the simulator needs an auth token to sign webhooks");
  for (const SimulatedAccount& a : options.more_accounts)
    if (a.account_sid.empty() || a.auth_token.empty() || a.account_sid == options.account_sid)
      return invalid_argument("each more account needs its own account SID and an auth token");
  if (options.port < 0 || options.port > 65535) return invalid_argument("port must be 0..65535");
  if (!(options.time_scale > 0)) return invalid_argument("time_scale must be positive");
  std::vector<std::string> errors = validate_flow_definition(options.flow_definition);
  if (!errors.empty()) return invalid_argument("invalid flow definition: " + errors.front());

  auto running = std::make_unique<Running>();
  running->account_sid = options.account_sid;
  running->service = std::make_unique<StudioService>(options);
  StudioService* service = running->service.get();
  asio::io_context* io = &running->io;
  std::promise<int> bound;

  auto handler = [service, io](restinio::request_handle_t req) {
    ApiReply reply = service->handle(to_api_request(*req));
    if (reply.delay.count() > 0) {
      auto timer = std::make_shared<asio::steady_timer>(*io, reply.delay);
      timer->async_wait([timer, req, reply](const asio::error_code&) { send_reply(req, reply); });
    } else {
      send_reply(req, reply);
    }
    return restinio::request_accepted();
  };
  auto settings = restinio::server_settings_t<ServerTraits>{}
                      .address(options.bind_address)
                      .port(static_cast<std::uint16_t>(options.port))
                      .handle_request_timeout(std::chrono::seconds(120))
                      .request_handler(std::move(handler))
                      .acceptor_post_bind_hook([&bound, service, address = options.bind_address](
                                                   asio::ip::tcp::acceptor& acceptor) {
                        // Runs on the io thread before the first accept, so no handler sees an empty URL.
                        int port = acceptor.local_endpoint().port();
                        service->set_base_url("http://" + address + ":" + std::to_string(port));
                        bound.set_value(port);
                      });
  try {
    running->server =
        std::make_unique<Server>(restinio::external_io_context(running->io), std::move(settings));
  } catch (const std::exception& e) {
    return internal_error(std::string("cannot create the simulator's HTTP server: ") + e.what());
  }
  running->io_thread = std::thread([io] { io->run(); });
  std::future<int> port = bound.get_future();
  std::promise<std::string> opened;
  running->server->open_async([&opened] { opened.set_value(""); },
                              [&opened](std::exception_ptr error) {
                                try {
                                  std::rethrow_exception(error);
                                } catch (const std::exception& e) {
                                  opened.set_value(e.what());
                                }
                              });
  std::string open_error = opened.get_future().get();
  if (!open_error.empty()) {
    running->server.reset();
    return unavailable("cannot listen on " + options.bind_address + ":" + std::to_string(options.port) +
                       ": " + open_error);
  }
  running->port = port.get();
  running->base_url = "http://" + options.bind_address + ":" + std::to_string(running->port);
  return std::unique_ptr<Simulator>(new Simulator(std::move(running)));
}

Simulator::Simulator(std::unique_ptr<Running> running) : running_(std::move(running)) {}
Simulator::~Simulator() = default;

int Simulator::port() const {
  return running_->port;
}
std::string Simulator::base_url() const {
  return running_->base_url;
}
const std::string& Simulator::flow_sid() const {
  return running_->service->default_flow_sid();
}
const std::string& Simulator::account_sid() const {
  return running_->account_sid;
}
std::string Simulator::flow_sid_for(const std::string& account_sid) const {
  return running_->service->flow_sid_for(account_sid);
}

Result<nlohmann::json> load_flow_definition(const std::string& path) {
  std::ifstream file(path);
  if (!file) return not_found("cannot read the flow definition " + path);
  std::stringstream text;
  text << file.rdbuf();
  nlohmann::json definition = nlohmann::json::parse(text.str(), nullptr, false);
  if (definition.is_discarded()) return invalid_argument(path + " is not valid JSON");
  std::vector<std::string> errors = validate_flow_definition(definition);
  if (!errors.empty()) return invalid_argument(path + ": " + errors.front());
  return definition;
}

}  // namespace voxlog::sim
