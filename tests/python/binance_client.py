"""python-binance, unchanged but for its base URL, against `floor venue sim`.

Run by the integration test `venue_sim::python_binance_trades_on_the_simulator`
with the simulator's REST URL and two accounts' keys. Exits non-zero with the
failing check on stderr; prints one JSON summary line on success.
"""

import json
import sys

from binance.client import Client
from binance.exceptions import BinanceAPIException


def client(url, key, secret):
    c = Client(key, secret, ping=False)
    c.API_URL = url + "/api"
    return c


def expect(cond, what):
    if not cond:
        print(f"check failed: {what}", file=sys.stderr)
        sys.exit(1)


def main():
    url, maker_key, maker_secret, taker_key, taker_secret = sys.argv[1:6]
    maker = client(url, maker_key, maker_secret)
    taker = client(url, taker_key, taker_secret)

    expect(maker.ping() == {}, "ping answers {}")
    expect(maker.get_server_time()["serverTime"] > 0, "server time")
    info = maker.get_symbol_info("BTCUSDT")
    filters = {f["filterType"]: f for f in info["filters"]}
    expect(filters["PRICE_FILTER"]["tickSize"] == "0.01000000", f"tick size {filters['PRICE_FILTER']}")

    # A resting bid, then a seller that takes part of it.
    bid = maker.order_limit_buy(symbol="BTCUSDT", quantity="0.01", price="30000.00", newClientOrderId="maker-bid-1")
    expect(bid["status"] == "NEW", f"bid rests: {bid}")
    book = taker.get_order_book(symbol="BTCUSDT", limit=5)
    expect(book["bids"][0] == ["30000.00000000", "0.01000000"], f"book shows the bid: {book}")

    sell = taker.order_market_sell(symbol="BTCUSDT", quantity="0.004")
    expect(sell["status"] == "FILLED", f"market sell fills: {sell}")
    expect(sell["fills"][0]["price"] == "30000.00000000", f"at the bid: {sell['fills']}")
    expect(sell["fills"][0]["commissionAsset"] == "USDT", "seller pays the fee in quote")

    got = maker.get_order(symbol="BTCUSDT", origClientOrderId="maker-bid-1")
    expect(got["status"] == "PARTIALLY_FILLED" and got["executedQty"] == "0.00400000", f"partial fill: {got}")
    expect(len(maker.get_open_orders(symbol="BTCUSDT")) == 1, "one open order")

    cancelled = maker.cancel_order(symbol="BTCUSDT", orderId=bid["orderId"])
    expect(cancelled["status"] == "CANCELED", f"cancel: {cancelled}")
    expect(maker.get_open_orders(symbol="BTCUSDT") == [], "no open orders after cancel")

    account = maker.get_account()
    balances = {b["asset"]: b for b in account["balances"]}
    # Bought 0.004 BTC less 0.1 % fee; paid 120 USDT; nothing locked any more.
    expect(balances["BTC"]["free"] == "10.00399600", f"BTC balance: {balances['BTC']}")
    expect(balances["USDT"]["free"] == "999880.00000000", f"USDT balance: {balances['USDT']}")
    expect(balances["USDT"]["locked"] == "0.00000000", "nothing locked")

    trades = maker.get_my_trades(symbol="BTCUSDT")
    expect(len(trades) == 1 and trades[0]["isMaker"] and trades[0]["isBuyer"], f"trades: {trades}")
    expect(len(maker.get_all_orders(symbol="BTCUSDT")) == 1, "all orders")

    try:
        maker.order_limit_buy(symbol="BTCUSDT", quantity="0.01", price="30000.001")
        expect(False, "an off-tick price is refused")
    except BinanceAPIException as e:
        expect(e.code == -1013 and "PRICE_FILTER" in e.message, f"filter error: {e.code} {e.message}")
    try:
        maker.cancel_order(symbol="BTCUSDT", orderId=bid["orderId"])
        expect(False, "a second cancel is refused")
    except BinanceAPIException as e:
        expect(e.code == -2011, f"unknown order: {e.code} {e.message}")

    used = maker.response.headers.get("x-mbx-used-weight-1m")
    expect(used is not None and int(used) > 0, f"weight header: {dict(maker.response.headers)}")
    print(json.dumps({"ok": True, "trades": len(trades), "used_weight": int(used)}))


if __name__ == "__main__":
    main()
