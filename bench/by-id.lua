-- wrk script: GET /v1/structures/{id}, a random id per request, optionally signed in.
-- Usage: wrk ... -s bench/by-id.lua http://HOST:PORT -- IDS_FILE [TOKEN] [COLLECTION]
-- (one id per line; TOKEN "-" for none, as wrk drops empty arguments; COLLECTION
-- defaults to /v1/structures)
-- Random ids rather than one id so that the database's caches see a realistic spread.

local thread_count = 0

-- Runs once per thread in the main Lua state: give each thread its own number, so that
-- their random sequences differ.
function setup(thread)
  thread:set("thread_number", thread_count)
  thread_count = thread_count + 1
end

local ids = {}
local headers = {}
local collection = "/v1/structures"

function init(args)
  local path = args[1] or error("by-id.lua needs the ids file: -- IDS_FILE [TOKEN]")
  for line in io.lines(path) do
    if line ~= "" then
      ids[#ids + 1] = line
    end
  end
  if #ids == 0 then
    error("no id in " .. path)
  end
  if args[3] and args[3] ~= "" then
    collection = args[3]
  end
  if args[2] and args[2] ~= "" and args[2] ~= "-" then
    headers["Authorization"] = "Bearer " .. args[2]
  end
  math.randomseed(os.time() + 7919 * (thread_number or 0))
end

function request()
  return wrk.format("GET", collection .. "/" .. ids[math.random(#ids)], headers)
end
