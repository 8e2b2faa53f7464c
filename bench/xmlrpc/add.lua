-- wrk script for bench/xmlrpc/run.sh: POST add(41, 1) and check that
-- every answer is 42; prints "RATE calls/s" and "BAD n" at the end.
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/xml"
-- The body is bench/xmlrpc/add.xml (run.sh runs wrk from the top of the
-- tree), the bytes the in-process engines of run.sh dispatch too.
local f = assert(io.open("bench/xmlrpc/add.xml", "rb"))
wrk.body = f:read("*a")
f:close()

local threads = {}
function setup(thread) table.insert(threads, thread) end

bad = 0
function response(status, headers, body)
  if status ~= 200 or not string.find(body, "<int>42</int>", 1, true) then bad = bad + 1 end
end

function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("bad") end
  local e = summary.errors
  io.write(string.format("RATE %.0f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("BAD %d\n", n + e.connect + e.read + e.write + e.status + e.timeout))
end
