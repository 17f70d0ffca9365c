#!/usr/bin/env python3
# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""Run named commands and start again each one that exits, as a supervisor
does; stop them all on SIGTERM or SIGINT.  One line per event on stdout.

Usage: supervise.py NAME COMMAND [ARG...] [-- NAME COMMAND [ARG...]]...

Each command runs in its own process group with its output on ours: when
one dies, what it left behind in its group (the task processes of
trytond-cron or trytond-worker) is killed before it starts again."""
import os
import signal
import subprocess
import sys
import time

# A command that dies sooner after its start waits longer, up to the last
BACKOFF = [1, 2, 5, 10, 30]
STABLE = 30
STOP_TIMEOUT = 30


def log(message):
    now = time.strftime('%Y-%m-%d %H:%M:%S')
    print(f'{now} INFO {os.getpid()} supervisor {message}', flush=True)


def parse(argv):
    programs, current = [], []
    for arg in argv + ['--']:
        if arg == '--':
            if len(current) < 2:
                raise SystemExit(__doc__)
            programs.append((current[0], current[1:]))
            current = []
        else:
            current.append(arg)
    return programs


class Program:

    def __init__(self, name, command):
        self.name = name
        self.command = command
        self.process = None
        self.started = 0
        self.failures = 0
        self.due = 0

    def start(self):
        self.process = subprocess.Popen(
            self.command, stderr=subprocess.STDOUT, start_new_session=True)
        self.started = time.monotonic()
        log(f'{self.name} started pid={self.process.pid}')

    def signal_group(self, signum):
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass

    def reap(self):
        "Schedule the start again of an exited program; return if it did"
        if self.process is None or self.process.poll() is None:
            return False
        code = self.process.returncode
        how = f'signal {-code}' if code < 0 else f'code {code}'
        # What the program left in its group dies with it
        self.signal_group(signal.SIGKILL)
        if time.monotonic() - self.started < STABLE:
            self.failures += 1
        else:
            self.failures = 1
        delay = BACKOFF[min(self.failures, len(BACKOFF)) - 1]
        log(f'{self.name} pid={self.process.pid} exited with {how}; '
            f'starting again in {delay} s')
        self.process = None
        self.due = time.monotonic() + delay
        return True


def main(argv):
    programs = [Program(n, c) for n, c in parse(argv)]
    stopping = []

    def stop(signum, frame):
        stopping.append(signum)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for program in programs:
        program.start()
    while not stopping:
        time.sleep(0.2)
        for program in programs:
            program.reap()
            if (program.process is None and not stopping
                    and time.monotonic() >= program.due):
                program.start()
    log(f'stopping on signal {stopping[0]}')
    running = [p for p in programs if p.process is not None]
    for program in running:
        program.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for program in running:
        try:
            program.process.wait(max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            log(f'{program.name} pid={program.process.pid} killed')
        program.signal_group(signal.SIGKILL)
        program.process.wait()
    log('stopped')


if __name__ == '__main__':
    main(sys.argv[1:])
