-- wrk script: PUT /api/books/{id}/ on random books the bench user owns
-- (odd ids), keeping each book's ISBN. Args: token, books.
local token = ""
local books = 1000
function init(args)
  token = args[1]
  if args[2] then books = tonumber(args[2]) end
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end
function request()
  local id = 2 * math.random(0, math.floor((books - 1) / 2)) + 1
  local n = math.random(0, 4999)
  local body = string.format('{"title":"Revised edition %d","isbn":"978%010d","author":%d,"price_cents":%d,"published_on":null}', n, id, 1 + n % 50, n)
  return wrk.format("PUT", "/api/books/" .. id .. "/", {["Content-Type"] = "application/json", ["Authorization"] = "Token " .. token}, body)
end
