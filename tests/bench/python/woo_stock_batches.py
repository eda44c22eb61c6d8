"""End of Day's writes done the plain way with WooCommerce's official
Python client (`pip install woocommerce`), the comparison point of the
outbound benchmark (tests/bench): the same stock counts End of Day sends,
as batch updates of 100 (`POST products/batch`, and each variable
product's `POST products/{id}/variations/batch`), one request after
another. It reads the batches from a JSON file (a list of
`{"route": "products/batch", "update": [{"id": 11, "stock_quantity": 4}]}`)
and prints one JSON line: batches sent, items refused, seconds.

    python woo_stock_batches.py --url URL --key K --secret S --batches FILE
"""

import argparse
import json
import sys
import time

from woocommerce import API


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--batches", required=True)
    args = parser.parse_args()

    api = API(url=args.url, consumer_key=args.key, consumer_secret=args.secret,
              version="wc/v3", timeout=120)
    with open(args.batches, encoding="utf-8") as f:
        batches = json.load(f)

    started = time.monotonic()
    refused = 0
    for batch in batches:
        response = api.post(batch["route"], {"update": batch["update"]})
        if response.status_code != 200:
            sys.exit(f"POST {batch['route']}: {response.status_code} {response.text[:300]}")
        refused += sum(1 for item in response.json().get("update", []) if "error" in item)
    print(json.dumps({
        "batches": len(batches),
        "refused": refused,
        "secs": time.monotonic() - started,
    }))


if __name__ == "__main__":
    main()
