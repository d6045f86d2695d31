-- Shared by every script the bench gives wrk (tests/benches/server/wrk.rs puts it first).
--
-- setup() numbers the threads (`id`, from 0). done() prints one machine-readable line,
-- `VERITY_WRK {json}`, that the bench parses: wrk's own figures (requests, errors, latency
-- percentiles in microseconds) and what the threads counted themselves in response(), when the
-- script has one: answers, wrong answers (and the first of them), and the span from the first
-- request to the last answer. A thread that stops early (wrk.thread:stop()) leaves wrk asleep
-- until -d runs out, so for those scripts the rate is taken over that span, not wrk's duration.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } verity_timespec;
int clock_gettime(int clock_id, verity_timespec *tp);
]]
local clock = ffi.new("verity_timespec")

-- CLOCK_MONOTONIC, in microseconds.
function now_us()
  ffi.C.clock_gettime(1, clock)
  return tonumber(clock.tv_sec) * 1000000 + tonumber(clock.tv_nsec) / 1000
end

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local function sanitized(text)
  return (string.gsub(string.sub(text or "", 1, 300), '[%c"\\]', " "))
end

function done(summary, latency, requests)
  local answered, bad, first, last, sample = 0, 0, nil, nil, nil
  for _, thread in ipairs(threads) do
    answered = answered + (thread:get("answered") or 0)
    bad = bad + (thread:get("bad") or 0)
    local f, l = thread:get("first_us"), thread:get("last_us")
    if f and (first == nil or f < first) then first = f end
    if l and (last == nil or l > last) then last = l end
    sample = sample or thread:get("sample")
  end
  local span = -1
  if first and last then span = last - first end
  local e = summary.errors
  io.write(string.format(
    'VERITY_WRK {"duration_us":%d,"requests":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"answered":%d,"bad":%d,"span_us":%d,"sample":"%s"}\n',
    summary.duration, summary.requests, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    answered, bad, span, sanitized(sample)))
end
