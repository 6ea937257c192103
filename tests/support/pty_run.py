"""Runs a command on a pseudo-terminal (its controlling terminal, stdin and stderr) and answers
its MFA prompts, one answer per prompt, as a person at the terminal would: each answer is typed
once the prompt is shown and echo is off.

Usage: pty_run.py STDOUT_FILE PROMPT ANSWER... -- COMMAND ARGS...
The command's stdout goes to STDOUT_FILE; what it wrote on the terminal (prompts, warnings,
errors) and its exit status are printed as JSON when it ends. Gives up after 60 s.
"""
import json
import os
import pty
import select
import sys
import termios
import time


def wait_for_no_echo(fd, until):
    """Waits until the prompt has turned echo off: input typed before that may be flushed."""
    while time.monotonic() < until:
        if not termios.tcgetattr(fd)[3] & termios.ECHO:
            return
        time.sleep(0.01)

args = sys.argv[1:]
sep = args.index("--")
out_file, prompt, answers, command = args[0], args[1].encode(), args[2:sep], args[sep + 1:]

pid, fd = pty.fork()
if pid == 0:
    out = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(out, 1)
    os.execvp(command[0], command)

transcript = b""
answered = 0
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.5)
    if not ready:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:  # EIO: the command closed the terminal
        break
    if not data:
        break
    transcript += data
    if transcript.count(prompt) > answered and answered < len(answers):
        wait_for_no_echo(fd, deadline)
        os.write(fd, answers[answered].encode() + b"\n")
        answered += 1
else:
    os.kill(pid, 9)
_, status = os.waitpid(pid, 0)
print(json.dumps({
    "status": os.waitstatus_to_exitcode(status),
    "terminal": transcript.decode(errors="replace"),
    "answered": answered,
}))
