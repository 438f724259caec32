-- wrk script for bench/suite.sh: after the run, prints the latency percentiles (milliseconds) as one
-- line "LATENCY_JSON {...}" for the harness to pick up. suite.sh puts the S8 POST settings before it.
done = function(summary, latency, requests)
  local percentiles = { "50", "75", "90", "99", "99.9", "99.99" }
  local parts = {}
  for _, p in ipairs(percentiles) do
    parts[#parts + 1] = string.format('"%s":%.3f', p, latency:percentile(tonumber(p)) / 1000)
  end
  parts[#parts + 1] = string.format('"100":%.3f', latency.max / 1000)
  io.write("LATENCY_JSON {" .. table.concat(parts, ",") .. "}\n")
end
