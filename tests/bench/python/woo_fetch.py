"""A plain sequential reader written with WooCommerce's official Python
client (`pip install woocommerce`), the comparison point of the import
benchmark (tests/bench). It reads the same pages as the plugin's full
import: products by id (per_page=100, page after page), their variations
(GET variations on WooCommerce 10.3+, else one listing per variable
product) and the orders in the import statuses, with the same `_fields`.
Over plain HTTP the client signs with OAuth 1.0a. It prints one JSON line
with what it read and how long each part took.

    python woo_fetch.py --url URL --key K --secret S [--variations-route] \
        [--statuses processing] [--product-fields ...] ...
"""

import argparse
import json
import sys
import time

from woocommerce import API


def pages(api, endpoint, params):
    """Every record of a listing, one page after another."""
    records = []
    page = 1
    while True:
        response = api.get(endpoint, params=dict(params, per_page=100, page=page))
        if response.status_code != 200:
            sys.exit(f"GET {endpoint} page {page}: {response.status_code} {response.text[:300]}")
        batch = response.json()
        records.extend(batch)
        total_pages = int(response.headers.get("X-WP-TotalPages", "0") or 0)
        if page >= total_pages or not batch:
            return records
        page += 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--variations-route", action="store_true")
    parser.add_argument("--statuses", default="processing")
    parser.add_argument("--product-fields", default="")
    parser.add_argument("--variation-fields", default="")
    parser.add_argument("--order-fields", default="")
    args = parser.parse_args()

    api = API(url=args.url, consumer_key=args.key, consumer_secret=args.secret,
              version="wc/v3", timeout=120)

    def query(fields, **extra):
        params = dict(extra)
        if fields:
            params["_fields"] = fields
        return params

    started = time.monotonic()
    products = pages(api, "products", query(args.product_fields, orderby="id", order="asc"))
    products_secs = time.monotonic() - started

    started = time.monotonic()
    variable = [p["id"] for p in products if p.get("type") == "variable"]
    variations = []
    if args.variations_route:
        variations = pages(api, "variations", query(args.variation_fields, orderby="id", order="asc"))
    else:
        for product_id in variable:
            variations.extend(pages(api, f"products/{product_id}/variations",
                                    query(args.variation_fields, orderby="id", order="asc")))
    variations_secs = time.monotonic() - started

    started = time.monotonic()
    orders = pages(api, "orders", query(args.order_fields, status=args.statuses,
                                        orderby="id", order="asc"))
    orders_secs = time.monotonic() - started

    print(json.dumps({
        "products": len(products),
        "variable": len(variable),
        "variations": len(variations),
        "orders": len(orders),
        "skipped": 0,
        "products_secs": products_secs,
        "variations_secs": variations_secs,
        "orders_secs": orders_secs,
    }))


if __name__ == "__main__":
    main()
