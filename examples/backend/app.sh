#!/bin/sh
# A stand-in service: answers on :8080 with its build info.
exec httpd -f -p 8080 -h /app
