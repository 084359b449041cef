-- wrk script for the webhook ingestion benchmark (tools/bench/server_bench.sh runs it).
-- Replays the pre-signed Twilio status callbacks that webhook_gen wrote to $WEBHOOK_REQUESTS, one
-- after another across all connections, to $WEBHOOK_PATH (default /api/calls/webhooks/status). Run it
-- with one wrk thread (-t1): each thread would replay the same file, and the repeats would be duplicates.
-- At the end it prints one line, "WRK key=value ...", that the driver parses. `issued` counts requests
-- handed to wrk, including those still in flight when the run stopped; `wrapped` says whether the file
-- ran out and was replayed (the server then sees duplicates: it acknowledges them without new events).
-- With $WEBHOOK_LATENCY_OUT set, it also writes the latency distribution there as "fraction ms" lines
-- (quantiles every 0.1% below p99, every 0.01% above), so that a driver running several wrk processes can
-- pool their distributions (cluster_bench.sh).

local latency_out = os.getenv("WEBHOOK_LATENCY_OUT")
local path = os.getenv("WEBHOOK_PATH") or "/api/calls/webhooks/status"
local file = os.getenv("WEBHOOK_REQUESTS")
local prepared = {}
local next_index = 1
issued = 0
wrapped = 0

function init(args)
  assert(file, "set WEBHOOK_REQUESTS to the file webhook_gen wrote")
  for line in io.lines(file) do
    local signature, body = line:match("^(%S+) (%S+)$")
    assert(signature, "malformed line in " .. file)
    prepared[#prepared + 1] = wrk.format("POST", path, {
      ["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8",
      ["X-Twilio-Signature"] = signature,
      ["User-Agent"] = "TwilioProxy/1.1",
      ["Accept"] = "*/*",
    }, body)
  end
  assert(#prepared > 0, file .. " is empty")
end

function request()
  local r = prepared[next_index]
  issued = issued + 1
  next_index = next_index + 1
  if next_index > #prepared then
    next_index = 1
    wrapped = 1
  end
  return r
end

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local issued_total, wrapped_any = 0, 0
  for _, t in ipairs(threads) do
    issued_total = issued_total + t:get("issued")
    wrapped_any = math.max(wrapped_any, t:get("wrapped"))
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "WRK requests=%d issued=%d wrapped=%d seconds=%.3f rps=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f " ..
    "max_ms=%.3f non2xx=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
    summary.requests, issued_total, wrapped_any, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.status, e.connect, e.read, e.write, e.timeout))
  if latency_out then
    -- Each line: the share of the requests it stands for, and the latency at the middle of that share.
    local out = assert(io.open(latency_out, "w"))
    for i = 1, 990 do out:write(string.format("0.001 %.3f\n", latency:percentile((i - 0.5) / 10) / 1000)) end
    for i = 1, 100 do out:write(string.format("0.0001 %.3f\n", latency:percentile(99 + (i - 0.5) / 100) / 1000)) end
    out:close()
  end
end
