#!/usr/bin/env python3
# This file is part of Omni Retail.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""trytond-worker that exits when it loses its database, for a supervisor to
start it again.  Same options as trytond-worker.

trytond's worker pulls the tasks of a database on one autocommit connection
opened at its start, for its whole life.  When PostgreSQL restarts that
connection is closed for good: each pull fails with an OperationalError,
which the loop takes for a passing one and tries again at once, on the same
closed connection.  The process stays alive and never takes a task again.

Here a pull or a wait for notifications that fails on a closed or broken
connection ends the process with LOST (after the running tasks end): the
supervisor (tools/supervise.py, Docker's restart policy) starts a new one,
which connects again.  An error on a sound connection is left to trytond,
as before."""
import logging
import sys

import trytond.commandline as commandline
import trytond.config as config

# The exit status of a worker that lost its database
LOST = 3
logger = logging.getLogger('omni.queue_worker')


class ConnectionLost(Exception):
    pass


def lost(connection):
    return connection.closed or getattr(connection, 'broken', False)


def patch(worker):
    "Make trytond.worker's Queue raise ConnectionLost on a lost connection"
    from trytond import backend

    Queue = worker.Queue
    if getattr(Queue, 'lost_connection', False):
        return

    class LosingQueue(Queue):
        lost_connection = True

        def _guard(self, method, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except backend.DatabaseOperationalError as exception:
                if lost(self.connection):
                    raise ConnectionLost(self.database.name) from exception
                raise

        def pull(self, name=None):
            return self._guard(Queue.pull, name=name)

        def get_notifications(self):
            return self._guard(Queue.get_notifications)

    worker.Queue = LosingQueue


def main(argv=None):
    parser = commandline.get_parser_worker()
    options = parser.parse_args(argv)
    config.update_etc(options.configfile)
    commandline.config_log(options)

    import trytond.worker as worker
    from trytond.pool import Pool
    patch(worker)

    with commandline.pidfile(options):
        try:
            Pool.start()
            worker.work(options)
        except ConnectionLost as exception:
            logger.critical(
                "lost the connection to database %s, exiting", exception)
            return LOST
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
