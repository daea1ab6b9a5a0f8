-- wrk script for bench/ingest.py: POST pre-generated event batches, one line of a bodies file each.
-- Environment:
--   BENCH_BODIES    the bodies file: lines "ua<TAB>user agent" first, then "visitors<TAB>N", then
--                   "<ua index><TAB><JSON batch>": every visitor's first batch, then every second, …
--   BENCH_PATH      the events endpoint, e.g. /v1/sites/demo/events
--   BENCH_ORIGIN    the Origin header (one of the site's origins)
--   BENCH_RATE      requests per second for this wrk thread (0: as fast as the server answers)
--   BENCH_THREADS   wrk's -t
--   BENCH_RUN       a number that differs between the wrk runs against one server (0 to 65535)
--   BENCH_START     the body to start at (0-based): where the previous run against this server stopped
--   BENCH_HOSTS     optional "host:port,host:port": wrk's threads go round these addresses (thread i
--                   connects to address i mod n), to load several server processes in one run
-- Every batch holds the placeholder @@@@@@@@@@@@@@ in each event id, replaced per request by the
-- run's number, the thread's and a counter, so a body sent again is new events, not duplicates.
-- Replies that report duplicates are counted, to prove it.
-- done() prints one JSON line with the counts and latency percentiles (microseconds).

local rate = tonumber(os.getenv("BENCH_RATE") or "0")
local threads, hosts = {}, {}
for address in (os.getenv("BENCH_HOSTS") or ""):gmatch("[^,]+") do table.insert(hosts, address) end

function setup(thread)
  thread:set("thread_number", #threads)
  if #hosts > 0 then
    local host, port = hosts[#threads % #hosts + 1]:match("^(.*):(%d+)$")
    thread.addr = wrk.lookup(host, port)[1]
  end
  table.insert(threads, thread)
end

local requests, agents = {}, {}
local position, counter = 1, 0
duplicates = 0  -- a global: done() reads it from each thread
local run = tonumber(os.getenv("BENCH_RUN") or "0")

function init(args)
  local path, origin = os.getenv("BENCH_PATH"), os.getenv("BENCH_ORIGIN")
  local visitors = 0
  for line in io.lines(os.getenv("BENCH_BODIES")) do
    local first, rest = line:match("^([^\t]*)\t(.*)$")
    if first == "ua" then
      table.insert(agents, rest)
    elseif first == "visitors" then
      visitors = tonumber(rest)
    else
      local headers = {["Content-Type"] = "text/plain;charset=UTF-8", ["Origin"] = origin,
                       ["User-Agent"] = agents[tonumber(first) + 1], ["Accept-Language"] = "ja,en;q=0.8"}
      table.insert(requests, {path = path, headers = headers, body = rest})
    end
  end
  -- Threads start at different places in the file, so together they cover it sooner: a step
  -- further on and among other visitors (the file is every visitor's step 1, then every step 2,
  -- …), so that two threads never send one visitor's batches at the same moment. A visitor's
  -- next batch is usually sent by another thread (another process, with BENCH_HOSTS), as behind
  -- a load balancer without sticky sessions.
  local count, start = tonumber(os.getenv("BENCH_THREADS") or "1"), tonumber(os.getenv("BENCH_START") or "0")
  local offset = math.floor(#requests * thread_number / count) + math.floor(visitors * thread_number / count)
  position = 1 + (start + offset) % #requests
end

function request()
  local item = requests[position]
  position = position % #requests + 1
  counter = counter + 1
  local stamp = string.format("%04x%02x%08x", run, thread_number, counter)
  return wrk.format("POST", item.path, item.headers, (item.body:gsub("@@@@@@@@@@@@@@", stamp)))
end

function response(status, headers, body)
  if body:find('"duplicates"', 1, true) then duplicates = duplicates + 1 end
end

if rate > 0 then
  -- A fixed rate (wrk2 is not in Debian): time slots 1/rate apart, on the monotonic clock
  -- (LuaJIT's FFI). Before each request, a connection takes the next free slot and waits for
  -- it. A server that falls more than 100 ms behind loses those slots: no catch-up bursts,
  -- and the achieved rate shows it.
  local ffi = require("ffi")
  ffi.cdef[[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clock, bench_timespec *now);
  ]]
  local timespec, interval, next_slot = ffi.new("bench_timespec"), 1000 / rate, nil
  local function now_ms()
    ffi.C.clock_gettime(1, timespec)  -- CLOCK_MONOTONIC
    return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
  end
  function delay()
    local now = now_ms()
    if next_slot == nil or next_slot < now - 100 then next_slot = now end
    local wait = next_slot - now
    next_slot = next_slot + interval
    return math.max(0, math.floor(wait))  -- wrk waits whole milliseconds
  end
end

function done(summary, latency, rates)
  local e, repeated = summary.errors, 0
  for _, thread in ipairs(threads) do repeated = repeated + thread:get("duplicates") end
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d, ' ..
    '"duplicates": %d, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean,
    latency.max, repeated, e.connect, e.read, e.write, e.status, e.timeout))
end
