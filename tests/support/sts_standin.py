"""A small local STS for the rules moto does not enforce (tests/sts_profiles.rs starts it).

- A role session assumed with temporary credentials lasts at most 3600 s (role chaining).
- A role whose name contains "Mfa" needs MFA: the caller's session came from an MFA code, or
  the AssumeRole call carries SerialNumber and TokenCode.
- The MFA code 000000 is refused as AWS refuses a wrong code (AccessDenied, "MultiFactorAuthentication
  failed with invalid MFA one time pass code."), in GetSessionToken and AssumeRole.
- AccessDenied answers use the <ErrorResponse><Errors><Error> shape some STS-compatible servers
  send; other errors the AWS shape.
Every call is recorded; GET /calls returns them as JSON. Prints its port on stdout.
"""
import datetime
import json
import os
import secrets
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

CALLS = []
TEMPORARY = {}  # access key id -> {"mfa": bool, "arn": str}


def error(code, message, status, nested):
    inner = f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
    if nested:
        inner = f"<Errors>{inner}</Errors>"
    body = f"<ErrorResponse>{inner}<RequestId>standin</RequestId></ErrorResponse>"
    return status, body


def credentials_xml(mfa, arn):
    akid = "ASIA" + secrets.token_hex(8).upper()
    TEMPORARY[akid] = {"mfa": mfa, "arn": arn}
    return (
        f"<Credentials><AccessKeyId>{akid}</AccessKeyId>"
        f"<SecretAccessKey>{secrets.token_hex(20)}</SecretAccessKey>"
        f"<SessionToken>{secrets.token_hex(40)}</SessionToken>"
        f"<Expiration>{expiration()}</Expiration></Credentials>"
    )


def expiration():
    """2099, or STANDIN_LIFETIME seconds from now (to test refreshing)."""
    lifetime = os.environ.get("STANDIN_LIFETIME")
    if not lifetime:
        return "2099-01-01T00:00:00Z"
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=int(lifetime))
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="text/xml"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/calls":
            self.reply(200, json.dumps(CALLS), "application/json")
        else:
            self.reply(404, "")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        auth = self.headers.get("Authorization", "")
        akid = auth.split("Credential=")[1].split("/")[0] if "Credential=" in auth else ""
        action = form.get("Action", "")
        temporary = akid in TEMPORARY
        CALLS.append({
            "action": action,
            "akid": akid,
            "temporary": temporary,
            "duration": int(form.get("DurationSeconds", "0")),
            "serial": form.get("SerialNumber"),
            "token_code": "TokenCode" in form,
            "code": form.get("TokenCode"),
            "role": form.get("RoleArn"),
        })
        if form.get("TokenCode") == "000000" and action in ("GetSessionToken", "AssumeRole"):
            return self.reply(*error("AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code. ", 403, False))
        if action == "GetSessionToken":
            if temporary:
                return self.reply(*error("AccessDenied", "Cannot call GetSessionToken with session credentials", 403, True))
            mfa = "SerialNumber" in form and "TokenCode" in form
            body = f"<GetSessionTokenResponse><GetSessionTokenResult>{credentials_xml(mfa, 'arn:aws:iam::000000000000:user/alice')}</GetSessionTokenResult></GetSessionTokenResponse>"
            return self.reply(200, body)
        if action == "AssumeRole":
            role = form.get("RoleArn", "")
            duration = int(form.get("DurationSeconds", "3600"))
            if temporary and duration > 3600:
                return self.reply(*error("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.", 400, False))
            direct_mfa = "SerialNumber" in form and "TokenCode" in form
            mfa = direct_mfa or (temporary and TEMPORARY[akid]["mfa"])
            if "Mfa" in role.rsplit("/", 1)[-1] and not mfa:
                return self.reply(*error("AccessDenied", f"MultiFactorAuthentication required to assume {role}", 403, True))
            name = role.rsplit("/", 1)[-1]
            account = role.split(":")[4]
            arn = f"arn:aws:sts::{account}:assumed-role/{name}/{form.get('RoleSessionName', 's')}"
            body = (
                f"<AssumeRoleResponse><AssumeRoleResult>{credentials_xml(mfa, arn)}"
                f"<AssumedRoleUser><Arn>{arn}</Arn><AssumedRoleId>AROA:{name}</AssumedRoleId></AssumedRoleUser>"
                "</AssumeRoleResult></AssumeRoleResponse>"
            )
            return self.reply(200, body)
        if action == "GetCallerIdentity":
            arn = TEMPORARY.get(akid, {}).get("arn", "arn:aws:iam::000000000000:user/alice")
            body = (
                "<GetCallerIdentityResponse><GetCallerIdentityResult>"
                f"<Arn>{arn}</Arn><UserId>AIDA</UserId><Account>{arn.split(':')[4]}</Account>"
                "</GetCallerIdentityResult></GetCallerIdentityResponse>"
            )
            return self.reply(200, body)
        return self.reply(*error("InvalidAction", f"unknown action {action}", 400, False))


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
# Ends with its parent's pipe (the test kills it on drop).
server.serve_forever()
