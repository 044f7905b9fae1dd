-- wrk script: POST /api/books/ with an ISBN unique to this thread and
-- request ("9" + run digit + 2-digit thread + 9-digit counter). Args: token, run digit.
local counter = 0
local token = ""
local run = "1"
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  token = args[1]
  if args[2] then run = args[2] end
end
function request()
  counter = counter + 1
  local isbn = string.format("9%s%02d%09d", run, tid, counter)
  local body = '{"title":"A new book","isbn":"' .. isbn .. '","author":7,"price_cents":1999,"published_on":"2021-06-30"}'
  return wrk.format("POST", "/api/books/", {["Content-Type"] = "application/json", ["Authorization"] = "Token " .. token}, body)
end
