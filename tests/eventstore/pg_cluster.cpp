#include "tests/eventstore/pg_cluster.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "eventstore/pg_conn.hpp"
#include "tests/eventstore/temp_dir.hpp"

namespace voxlog::test {

namespace fs = std::filesystem;

namespace {

std::string find_bin() {
  if (const char* bin = std::getenv("VOXLOG_PG_BIN"); bin && *bin) return bin;
  std::string best;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    fs::path initdb = entry.path() / "bin" / "initdb";
    if (fs::exists(initdb, ec) && (best.empty() || entry.path().string() > best))
      best = entry.path().string();
  }
  return best.empty() ? std::string() : best + "/bin";
}

// A port nobody listens on right now (the server may still lose a race for it: start() retries).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

int run(const std::string& command) {
  int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

}  // namespace

Result<std::unique_ptr<PgCluster>> PgCluster::start() {
  std::unique_ptr<PgCluster> c(new PgCluster());
  c->bin_ = find_bin();
  if (c->bin_.empty()) {
    return failed_precondition(
        "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb): "
        "apt-get install postgresql-15, or set VOXLOG_PG_BIN");
  }
  std::string pattern = "/tmp/voxlog-pg-XXXXXX";
  if (!mkdtemp(pattern.data())) return internal_error("mkdtemp failed");
  c->dir_ = pattern;
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (!pw) pw = ::getpwnam("nobody");
    if (!pw) return failed_precondition("running as root, and neither a postgres nor a nobody user exists");
    if (::chown(c->dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) return internal_error("chown " + c->dir_);
    c->as_user_ = std::string("runuser -u ") + pw->pw_name + " -- ";
  }
  // The watchdog: waits for EOF on its pipe (this process closed it, or died), then stops the server and
  // deletes the directory. Its own session, so a signal to the test's process group does not take it too.
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return internal_error("pipe2 failed");
  std::string cleanup = c->as_user_ + c->bin_ + "/pg_ctl -D " + c->dir_ +
                        "/data stop -m immediate >/dev/null 2>&1; rm -rf " + c->dir_;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setsid();
    ::dup2(fds[0], 0);
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    std::string script = "read _ignored; " + cleanup;
    ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[0]);
  if (pid < 0) {
    ::close(fds[1]);
    return internal_error("fork failed");
  }
  c->watchdog_fd_ = fds[1];

  std::string data = c->dir_ + "/data";
  std::string initdb = c->as_user_ + c->bin_ + "/initdb -D " + data +
                       " -U voxlog --auth=trust -E UTF8 --locale=C --no-sync --no-instructions >" + c->dir_ +
                       "/initdb.log 2>&1";
  if (run(initdb) != 0) return internal_error("initdb failed: " + file_text(c->dir_ + "/initdb.log"));
  for (int attempt = 0; attempt < 5 && !c->started_; ++attempt) {
    c->port_ = free_port();
    // fsync stays on (the default, said again here): acknowledged-after-COMMIT must mean on disk.
    std::string options = "-p " + std::to_string(c->port_) + " -k " + c->dir_ +
                          " -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=60"
                          " -c shared_buffers=16MB -c log_min_messages=warning";
    std::string start = c->as_user_ + c->bin_ + "/pg_ctl -D " + data + " -l " + c->dir_ +
                        "/server.log -w -t 60 -o '" + options + "' start >/dev/null 2>&1";
    c->started_ = run(start) == 0;
  }
  if (!c->started_)
    return internal_error("the PostgreSQL server did not start: " + file_text(c->dir_ + "/server.log"));
  return c;
}

PgCluster::~PgCluster() {
  if (started_) run(as_user_ + bin_ + "/pg_ctl -D " + dir_ + "/data stop -m fast >/dev/null 2>&1");
  std::error_code ec;
  if (!dir_.empty()) fs::remove_all(dir_, ec);
  if (watchdog_fd_ >= 0) ::close(watchdog_fd_);  // the watchdog finds nothing left to do and ends
}

PgCluster& PgCluster::shared() {
  static std::unique_ptr<PgCluster> cluster;
  static std::once_flag once;
  static Status failure;
  std::call_once(once, [] {
    auto started = start();
    if (started) {
      cluster = std::move(started).value();
    } else {
      failure = started.status();
    }
  });
  INFO(failure.to_string());
  REQUIRE(cluster);
  return *cluster;
}

std::string PgCluster::url(const std::string& database) const {
  return "postgresql://voxlog@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

Result<std::string> PgCluster::create_database() {
  static std::atomic<int> counter{0};
  std::string name = "log" + std::to_string(++counter);
  if (Status st = exec("postgres", "CREATE DATABASE " + name + " ENCODING 'UTF8' TEMPLATE template0"); !st)
    return st;
  return name;
}

Status PgCluster::exec(const std::string& database, const std::string& sql) {
  auto conn = pg::Conn::connect(url(database), url(database), "voxlog test");
  if (!conn) return conn.status();
  auto done = conn->exec(sql, "test statement");
  return done ? Status::ok() : done.status();
}

}  // namespace voxlog::test
