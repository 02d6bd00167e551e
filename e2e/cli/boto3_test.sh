#!/usr/bin/env bash
# End-to-end: boto3 drives the same path as the AWS CLI test.
source "$(dirname "$0")/lib.sh"
start_ecrd --account-id 123456789012
python3 "$(dirname "$0")/boto3_test.py" || fail "boto3 test"
