-- wrk settings for S8 of bench/suite.sh: every request is a POST of a 1 MiB body to /upload.
-- suite.sh appends latency.lua to this file.
wrk.method = "POST"
wrk.body = string.rep("m", 1048576)
wrk.headers["Content-Type"] = "application/octet-stream"
