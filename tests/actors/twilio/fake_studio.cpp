#include "tests/actors/twilio/fake_studio.hpp"

#include <cstdio>
#include <ctime>
#include <deque>
#include <mutex>
#include <stdexcept>

#include <unistd.h>
#include <nlohmann/json.hpp>
#include <restinio/all.hpp>

namespace voxlog::testing {
namespace {

using json = nlohmann::json;
using traits_t = restinio::traits_t<restinio::asio_timer_manager_t, restinio::null_logger_t>;
using server_t = restinio::running_server_handle_t<traits_t>;

const std::string kFlowSid = kFakeFlowSid;

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string sid(const char* prefix, int n) {
  char text[40];
  std::snprintf(text, sizeof text, "%s%032x", prefix, n);
  return text;
}

std::map<std::string, std::string> parse_form(restinio::string_view_t text) {
  std::map<std::string, std::string> out;
  auto parsed = restinio::try_parse_query<restinio::parse_query_traits::relaxed>(text);
  if (!parsed) return out;
  for (const auto& [key, value] : *parsed) out[std::string(key)] = std::string(value);
  return out;
}

json twilio_error(int code, int status, const std::string& message) {
  return {{"code", code},
          {"message", message},
          {"more_info", "https://www.twilio.com/docs/errors/" + std::to_string(code)},
          {"status", status}};
}

}  // namespace

struct FakeStudio::Impl {
  mutable std::mutex mutex;
  std::uint16_t port = 0;
  std::map<std::string, std::deque<Reply>> scripts;
  std::map<std::string, int> counts;
  std::vector<RecordedRequest> recorded;
  std::vector<json> executions;  // in creation order
  int created = 0;
  int next_id = 1;
  std::map<std::string, json> flows;
  std::vector<restinio::request_handle_t> held;  // hung requests, kept unanswered until shutdown
  server_t server;

  static std::string route_of(const std::string& method, const std::string& path) {
    const std::string executions = "/v2/Flows/" + kFlowSid + "/Executions";
    if (path == executions) return method == "POST" ? "create" : "list";
    if (path.rfind(executions + "/", 0) == 0) return method == "POST" ? "end" : "fetch";
    if (path == "/v2/Flows/Validate") return "validate";
    if (path == "/v2/Flows") return "create_flow";
    if (path.rfind("/v2/Flows/", 0) == 0 && method == "POST") return "update_flow";
    return "unknown";
  }

  json* find_execution(const std::string& execution_sid) {
    for (auto& e : executions) {
      if (e["sid"] == execution_sid) return &e;
    }
    return nullptr;
  }

  // The route's normal behaviour: returns (HTTP status, body).
  std::pair<int, json> model(const RecordedRequest& r) {
    if (r.route == "create") {
      auto to = r.form.find("To"), from = r.form.find("From");
      if (to == r.form.end() || from == r.form.end())
        return {400, twilio_error(20001, 400, "Missing To or From")};
      for (const auto& e : executions) {
        if (e["contact_channel_address"] == to->second && e["status"] == "active") {
          return {409, twilio_error(20409, 409, "Contact already has an active execution")};
        }
      }
      json e = {{"sid", sid("FN", next_id++)}, {"flow_sid", kFlowSid},
                {"status", "active"},          {"contact_channel_address", to->second},
                {"date_created", now_iso()},   {"context", json::object()}};
      executions.push_back(e);
      ++created;
      return {201, e};
    }
    if (r.route == "fetch" || r.route == "end") {
      json* e = find_execution(r.path.substr(r.path.rfind('/') + 1));
      if (!e) return {404, twilio_error(20404, 404, "The requested resource was not found")};
      if (r.route == "end") (*e)["status"] = "ended";
      return {200, *e};
    }
    if (r.route == "list") {
      auto query = parse_form(r.query);
      std::vector<json> matching;
      for (const auto& e : executions) {
        if (query.count("Status") && e["status"] != query["Status"]) continue;
        matching.push_back(e);
      }
      std::size_t page_size = query.count("PageSize") ? std::stoul(query["PageSize"]) : 50;
      std::size_t page = query.count("Page") ? std::stoul(query["Page"]) : 0;
      json list = json::array();
      for (std::size_t i = page * page_size; i < matching.size() && i < (page + 1) * page_size; ++i) {
        list.push_back(matching[i]);
      }
      json meta = {
          {"page", page}, {"page_size", page_size}, {"key", "executions"}, {"next_page_url", nullptr}};
      if ((page + 1) * page_size < matching.size()) {
        meta["next_page_url"] =
            "https://studio.twilio.com" + r.path + "?" + r.query + "&Page=" + std::to_string(page + 1);
      }
      return {200, {{"executions", list}, {"meta", meta}}};
    }
    if (r.route == "validate") return {200, {{"valid", true}}};
    if (r.route == "create_flow" || r.route == "update_flow") {
      std::string flow_sid = r.route == "create_flow" ? sid("FW", 0x100 + next_id++) : r.path.substr(10);
      json& flow = flows[flow_sid];
      if (r.route == "update_flow" && flow.is_null()) {
        flows.erase(flow_sid);
        return {404, twilio_error(20404, 404, "The requested resource was not found")};
      }
      flow = {{"sid", flow_sid},
              {"friendly_name", r.form.at("FriendlyName")},
              {"status", r.form.at("Status")},
              {"revision", (flow.is_object() ? flow.value("revision", 0) : 0) + 1},
              {"valid", true},
              {"errors", json::array()},
              {"warnings", json::array()},
              {"definition", json::parse(r.form.at("Definition"))}};
      return {r.route == "create_flow" ? 201 : 200, flow};
    }
    return {404, twilio_error(20404, 404, "The requested resource was not found")};
  }

  restinio::request_handling_status_t handle(restinio::request_handle_t req) {
    RecordedRequest r;
    r.method = req->header().method().c_str();
    r.path = std::string(req->header().path());
    r.query = std::string(req->header().query());
    r.authorization = req->header().get_field_or("Authorization", "");
    r.form = parse_form(req->body());
    r.route = route_of(r.method, r.path);

    std::lock_guard<std::mutex> lock(mutex);
    recorded.push_back(r);
    ++counts[r.route];
    std::optional<Reply> scripted;
    if (auto it = scripts.find(r.route); it != scripts.end() && !it->second.empty()) {
      scripted = it->second.front();
      it->second.pop_front();
    }
    int status = 200;
    std::string body;
    if (!scripted || scripted->apply) {
      try {
        auto [model_status, model_body] = model(r);
        status = model_status;
        body = model_body.dump();
      } catch (const std::exception& e) {  // a malformed request: say so rather than drop the connection
        status = 400;
        body = twilio_error(20001, 400, std::string("fake studio: ") + e.what()).dump();
      }
    }
    if (scripted && scripted->hang) {
      held.push_back(req);
      return restinio::request_accepted();
    }
    if (scripted && !scripted->apply) {
      status = scripted->status;
      body = scripted->body;
    } else if (scripted && !scripted->body.empty()) {
      status = scripted->status;
      body = scripted->body;
    }
    auto response = req->create_response(restinio::http_status_line_t{
        restinio::http_status_code_t{static_cast<std::uint16_t>(status)}, "Fake"});
    response.append_header(restinio::http_field::content_type, "application/json");
    if (scripted && !scripted->retry_after.empty())
      response.append_header("Retry-After", scripted->retry_after);
    return response.set_body(body).done();
  }
};

FakeStudio::FakeStudio() : impl_(std::make_unique<Impl>()) {
  std::string last_error;
  for (int attempt = 0; attempt < 20 && !impl_->server; ++attempt) {
    auto port = static_cast<std::uint16_t>(43000 + (::getpid() * 7 + attempt * 53) % 1000);
    try {
      impl_->server = restinio::run_async<traits_t>(
          restinio::own_io_context(),
          restinio::server_settings_t<traits_t>{}
              .address("127.0.0.1")
              .port(port)
              .request_handler([impl = impl_.get()](auto req) { return impl->handle(std::move(req)); }),
          1);
      impl_->port = port;
    } catch (const std::exception& e) {
      last_error = e.what();
    }
  }
  if (!impl_->server) throw std::runtime_error("FakeStudio: no free port in 43000-43999: " + last_error);
}

FakeStudio::~FakeStudio() {
  impl_->server->stop();
  impl_->server->wait();
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->held.clear();
}

std::string FakeStudio::base_url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}

void FakeStudio::script(const std::string& route, Reply reply) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->scripts[route].push_back(std::move(reply));
}

int FakeStudio::count(const std::string& route) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto it = impl_->counts.find(route);
  return it == impl_->counts.end() ? 0 : it->second;
}

int FakeStudio::executions_created() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->created;
}

std::vector<RecordedRequest> FakeStudio::requests() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->recorded;
}

std::string FakeStudio::add_execution(const std::string& contact, const std::string& status,
                                      const std::string& date_created) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  std::string execution_sid = sid("FN", 0x9000 + impl_->next_id++);
  impl_->executions.push_back({{"sid", execution_sid},
                               {"flow_sid", kFlowSid},
                               {"status", status},
                               {"contact_channel_address", contact},
                               {"date_created", date_created}});
  return execution_sid;
}

}  // namespace voxlog::testing
