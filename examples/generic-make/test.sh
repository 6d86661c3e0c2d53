#!/bin/sh
set -eu
make all
[ "$(./hello)" = hello ]
