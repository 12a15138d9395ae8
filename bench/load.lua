-- wrk script for bench/load.py. Counts responses by status in every thread and prints one
-- machine-readable line ("WRKJSON {...}") at the end with throughput and latency percentiles.
--
-- Environment (read at load time, identically in the main state and in every thread):
--   LAPOR_BENCH_MODE     "static" (wrk's own request, the fastest path) or "submit"
--   LAPOR_BENCH_TOKENS   submit: file with one form token per line; thread i of n takes lines
--                        i, i+n, i+2n... so no token is ever sent twice
--   LAPOR_BENCH_BODY     submit: the urlencoded body after "token=<token>"
--   LAPOR_BENCH_CODES    submit: file where done() writes the Location of every 303 received

local mode = os.getenv("LAPOR_BENCH_MODE") or "static"
local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

-- Per-thread globals, read back by done() through thread:get.
counts = {}
locations = {}
exhausted = 0

local tokens = {}
local next_token = 1
local body_rest = ""

function init(args)
  if mode ~= "submit" then
    return
  end
  local nthreads = tonumber(os.getenv("LAPOR_BENCH_THREADS"))
  local i = 0
  for line in io.lines(os.getenv("LAPOR_BENCH_TOKENS")) do
    if i % nthreads == id then
      tokens[#tokens + 1] = line
    end
    i = i + 1
  end
  body_rest = os.getenv("LAPOR_BENCH_BODY")
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

if mode == "submit" then
  -- Only defined in submit mode: without request() wrk sends one pre-built request, which
  -- keeps the baseline's generator cost as low as possible.
  function request()
    local token = tokens[next_token]
    if token then
      next_token = next_token + 1
    else
      -- Out of fresh tokens: an empty token is refused (400) and stores nothing, so a token
      -- shortage shows up in the status counts instead of as silent duplicates.
      token = ""
      exhausted = exhausted + 1
    end
    return wrk.format(nil, nil, nil, "token=" .. token .. body_rest)
  end
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
  if status == 303 and mode == "submit" then
    locations[#locations + 1] = headers["location"] or headers["Location"] or ""
  end
end

function done(summary, latency, requests)
  local totals = {}
  local spent = 0
  local out = os.getenv("LAPOR_BENCH_CODES")
  local file = nil
  if out and out ~= "" then
    file = assert(io.open(out, "w"))
  end
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do
      totals[status] = (totals[status] or 0) + n
    end
    spent = spent + (thread:get("exhausted") or 0)
    if file then
      for _, location in ipairs(thread:get("locations")) do
        file:write(location, "\n")
      end
    end
  end
  if file then
    file:close()
  end
  local statuses = {}
  for status, n in pairs(totals) do
    statuses[#statuses + 1] = string.format('"%d":%d', status, n)
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f,"exhausted":%d,"status":{%s},' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean, spent, table.concat(statuses, ","),
    e.connect, e.read, e.write, e.timeout))
end
