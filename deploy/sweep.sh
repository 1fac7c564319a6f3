#!/bin/sh
# Sweep one CRM's open deals: call the sweep route until it answers "done": true.
# Each call judges one page (100 deals); a 503 (the CRM said 429/5xx) is retried by curl after
# the Retry-After it gives, and "busy" (another sweep call at work) is waited out.
#   PIPELINE_GUARD_URL  https://pipeline-guard.example.com
#   PIPELINE_GUARD_CRM  hubspot | pipedrive | salesforce | generic
#   SWEEP_TOKEN         the app's sweep_token variable
#   SWEEP_MAX_CALLS     a bound on calls per run (default 2000: 200,000 deals)
set -eu
url="${PIPELINE_GUARD_URL%/}/flag-stale-deals/${PIPELINE_GUARD_CRM}/sweep"
calls=0
while [ "$calls" -lt "${SWEEP_MAX_CALLS:-2000}" ]; do
  calls=$((calls + 1))
  answer=$(curl -sS --fail-with-body --retry 5 --retry-max-time 600 -X POST \
    -H "Authorization: Bearer ${SWEEP_TOKEN}" "$url")
  echo "$answer"
  case "$answer" in
    *'"done":true'*) exit 0 ;;
    *'"status":"busy"'*) sleep 30 ;;
  esac
done
echo "sweep not done after $calls calls" >&2
exit 1
