-- wrk script: GET /api/books/{id}/ for random seeded ids (1..BOOKS).
local books = 1000
function init(args)
  if args[1] then books = tonumber(args[1]) end
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end
function request()
  return wrk.format("GET", "/api/books/" .. math.random(1, books) .. "/")
end
