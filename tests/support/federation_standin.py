"""A small local stand-in of the AWS federation endpoint (tests/login.rs starts it).

GET /federation?Action=getSigninToken[&SessionDuration=N]&Session={"sessionId": …,
"sessionKey": …, "sessionToken": …} answers {"SigninToken": "…"} when the Session JSON has
exactly those three keys, all non-empty strings; anything else is HTTP 400, as AWS answers.
STANDIN_STATUS=CODE makes every getSigninToken answer that status instead.
Every request is recorded (the Session's three values included, to compare with the
credentials the test gave); GET /calls returns them as JSON. Prints its port on stdout.
"""
import json
import os
import secrets
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CALLS = []
KEYS = {"sessionId", "sessionKey", "sessionToken"}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/calls":
            return self.reply(200, json.dumps(CALLS))
        if url.path != "/federation":
            return self.reply(404, "")
        query = parse_qs(url.query, keep_blank_values=True)
        call = {k: v[0] for k, v in query.items() if k != "Session"}
        call["repeated"] = [k for k, v in query.items() if len(v) > 1]
        CALLS.append(call)
        if call.get("Action") != "getSigninToken" or call["repeated"]:
            return self.reply(400, "<html>bad request</html>", "text/html")
        try:
            session = json.loads(query.get("Session", [""])[0])
        except ValueError:
            return self.reply(400, "<html>bad Session</html>", "text/html")
        if not isinstance(session, dict) or set(session) != KEYS or not all(
            isinstance(v, str) and v for v in session.values()
        ):
            return self.reply(400, "<html>bad Session</html>", "text/html")
        call["session"] = session
        status = int(os.environ.get("STANDIN_STATUS", "200"))
        if status != 200:
            return self.reply(status, "<html>failure</html>", "text/html")
        token = "tok-" + secrets.token_urlsafe(24)
        call["token"] = token
        return self.reply(200, json.dumps({"SigninToken": token}))


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
# Ends with its parent's pipe (the test kills it on drop).
server.serve_forever()
