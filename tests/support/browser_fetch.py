"""A stand-in browser for `login --open` tests: `browser_fetch.py OUT URL` fetches URL without
following redirects and writes "STATUS LOCATION" to OUT. With OTHER_UID/OTHER_GID set (tests run
as root), it first fetches the same URL as that user and writes that outcome to OUT.other, and writes
the URL it was given to OUT.argv."""
import http.client
import os
import subprocess
import sys
import urllib.parse


def fetch(url):
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=10)
    conn.request("GET", parts.path)
    resp = conn.getresponse()
    return "%d %s" % (resp.status, resp.getheader("Location") or "")


out, url = sys.argv[1], sys.argv[2]
if out == "-":
    print(fetch(url))
    sys.exit(0)
uid, gid = os.environ.get("OTHER_UID"), os.environ.get("OTHER_GID")
if uid and gid:
    env = {k: v for k, v in os.environ.items() if k not in ("OTHER_UID", "OTHER_GID")}
    other = subprocess.run(
        ["setpriv", "--reuid", uid, "--regid", gid, "--clear-groups",
         # The system's python: another user may not reach the test's own (under /root).
         "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable,
         __file__, "-", url],
        env=env, capture_output=True, text=True,
    )
    if other.returncode != 0:
        sys.exit("the other user's fetch failed: " + other.stderr)
    with open(out + ".other", "w") as f:
        f.write(other.stdout)
    with open(out + ".argv", "w") as f:
        f.write(url)
with open(out, "w") as f:
    f.write(fetch(url))
