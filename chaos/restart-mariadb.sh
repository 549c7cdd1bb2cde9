#!/bin/sh
# Restarts the local MariaDB server: shut down, wait until the process is gone, start, wait until it answers.
set -e
mariadb-admin -h 127.0.0.1 -u root shutdown
for i in $(seq 1 240); do pgrep -x mariadbd >/dev/null || break; sleep 0.25; done
start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
for i in $(seq 1 240); do mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1 && exit 0; sleep 0.25; done
exit 1
