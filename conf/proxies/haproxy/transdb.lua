-- transdb for HAProxy (2.6 or newer): the action lua.transdb asks
-- transdbd what the translation table decides for the request
-- (GET /v1/auth) and carries it out:
--
--   * a redirect or an error is answered at once, with transdbd's status,
--     Location and message: every status works;
--   * a Proxy URL sets txn.transdb_upstream to its host (haproxy.cfg
--     picks the backend of that name) and replaces the request's path
--     and query with the URL's;
--   * a File decision cannot be served by HAProxy, which has no file
--     server (and reading files in Lua would block its event loop): the
--     request goes on to the default backend with X-Transdb-File;
--   * the decision's X-Transdb-* headers (uri, path info, handler,
--     generation, every %CTX value and note) are added to the request
--     for the backend.
--
-- transdbd's address is the environment variable TRANSDB_ADDR
-- (host:port; haproxy.cfg sets a default); the key the table starts with
-- is the variable txn.transdb_key, set by haproxy.cfg.

local addr = os.getenv("TRANSDB_ADDR") or "127.0.0.1:8080"

-- The headers of transdbd's answer that are not for the backend.
local answer_only = {
	["x-transdb-status"] = true,
	["x-transdb-location"] = true,
	["x-transdb-message"] = true,
}

-- Hop-by-hop headers and a body's framing: not sent in the subrequest.
local hop = {
	["connection"] = true, ["keep-alive"] = true, ["te"] = true,
	["transfer-encoding"] = true, ["upgrade"] = true,
	["content-length"] = true, ["expect"] = true,
}

-- values returns the values of a header of the httpclient's or of
-- req_get_headers' tables (indexed from 0) as a list.
local function values(v)
	if type(v) ~= "table" then
		return { v }
	end
	local out = {}
	if v[0] ~= nil then
		out[#out + 1] = v[0]
	end
	for _, x in ipairs(v) do
		out[#out + 1] = x
	end
	return out
end

local function first(v)
	return values(v)[1]
end

core.register_action("transdb", { "http-req" }, function(txn)
	local key = txn:get_var("txn.transdb_key") or ""
	-- The original request, as nginx describes it, with the client's
	-- headers, which the table sees as $HEADERS.
	local headers = {}
	for name, v in pairs(txn.http:req_get_headers()) do
		if not hop[name] then
			headers[name] = values(v)
		end
	end
	local scheme = "http"
	if txn.f:ssl_fc() == 1 then
		scheme = "https"
	end
	headers["x-original-uri"] = { txn.f:url() }
	headers["x-original-method"] = { txn.f:method() }
	headers["x-forwarded-host"] = { txn.f:req_hdr("host") or "" }
	headers["x-forwarded-proto"] = { scheme }
	headers["x-forwarded-port"] = { tostring(txn.f:dst_port()) }
	headers["x-real-ip"] = { txn.f:src() }
	headers["x-forwarded-for"] = nil
	-- Caddy's and Traefik's names of the original request: a client's
	-- own would make transdbd refuse the request as ambiguous.
	headers["x-forwarded-uri"] = nil
	headers["x-forwarded-method"] = nil

	local hc = core.httpclient()
	local res = hc:get({
		url = "http://" .. addr .. "/v1/auth?key=" .. key,
		headers = headers,
		timeout = 10000,
	})
	if res == nil or res.status == nil or res.status == 0 then
		local reply = txn:reply({ status = 502, body = "transdbd did not answer\n" })
		reply:add_header("content-type", "text/plain")
		txn:done(reply)
		return
	end
	local rh = {}
	for name, v in pairs(res.headers or {}) do
		rh[string.lower(name)] = v
	end

	if res.status ~= 200 then
		-- The redirect or error, as transdbd answered it.
		local reply = txn:reply({ status = res.status, body = res.body or "" })
		for _, name in ipairs({ "location", "content-type", "cache-control", "x-transdb-generation" }) do
			if rh[name] ~= nil then
				reply:add_header(name, first(rh[name]))
			end
		end
		txn:done(reply)
		return
	end

	-- Proceed: the decision's headers for the backend, and the
	-- upstream of a Proxy URL.
	for name, v in pairs(rh) do
		if string.sub(name, 1, 10) == "x-transdb-" and not answer_only[name] then
			for _, x in ipairs(values(v)) do
				txn.http:req_add_header(name, x)
			end
		end
	end
	local proxy = rh["x-transdb-proxy"] and first(rh["x-transdb-proxy"])
	if proxy ~= nil and proxy ~= "" then
		local host, target = string.match(proxy, "^https?://([^/?]+)(.*)$")
		if host == nil then
			local reply = txn:reply({ status = 502, body = "the table's Proxy is not an http URL\n" })
			reply:add_header("content-type", "text/plain")
			txn:done(reply)
			return
		end
		if target == nil or target == "" then
			target = "/"
		elseif string.sub(target, 1, 1) == "?" then
			target = "/" .. target
		end
		txn:set_var("txn.transdb_upstream", host)
		txn.http:req_set_uri(target)
	end
end)
