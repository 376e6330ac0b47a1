-- HAProxy service: Streamlit's static files, gzip-compressed once, as tightly as it goes.
--
-- HAProxy's own compression (libslz) is fast but weak: Plotly's bundle comes out at
-- 2.2 MB where Zopfli makes 1.37 MB of the same gzip format. `deploy/serve.py`
-- compresses every compressible static file once into a folder with a manifest
-- (Zopfli for the large ones, gzip -9 for the rest); this service loads them
-- all into memory when HAProxy starts and answers /static/... requests from memory,
-- without reaching a worker. Only the paths listed in the manifest exist here: a
-- request never names a file on disk.
--
-- The folder comes from the environment: PLAYGROUND_STATIC_GZ. The manifest holds one
-- line per file: URL path, content type and file name, separated by tabs.

local files = {}

local function load(folder)
    local manifest = io.open(folder .. "/manifest.tsv", "r")
    if manifest == nil then
        core.Alert("static_gz: no manifest in " .. folder)
        return
    end
    local count, bytes = 0, 0
    for line in manifest:lines() do
        local path, ctype, name = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)$")
        if path ~= nil then
            local f = io.open(folder .. "/" .. name, "rb")
            if f ~= nil then
                local body = f:read("a")
                f:close()
                files[path] = { ctype = ctype, body = body }
                count = count + 1
                bytes = bytes + #body
            end
        end
    end
    manifest:close()
    core.Info(string.format("static_gz: %d files, %d bytes", count, bytes))
end

local folder = os.getenv("PLAYGROUND_STATIC_GZ")
if folder ~= nil and folder ~= "" then
    load(folder)
end

core.register_service("static_gz", "http", function(applet)
    local file = files[applet.path]
    if file == nil then -- the configuration sends only listed paths; be safe anyway
        applet:set_status(404)
        applet:add_header("content-length", "0")
        applet:start_response()
        return
    end
    applet:set_status(200)
    applet:add_header("content-type", file.ctype)
    applet:add_header("content-encoding", "gzip")
    applet:add_header("vary", "Accept-Encoding")
    -- the names carry a content hash: a new Streamlit release brings new names
    applet:add_header("cache-control", "public, max-age=31536000, immutable")
    applet:add_header("content-length", tostring(#file.body))
    applet:start_response()
    if applet.method ~= "HEAD" then
        applet:send(file.body)
    end
end)
