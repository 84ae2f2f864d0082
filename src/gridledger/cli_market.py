"""`gridledger market ...`: place and cancel orders, clear and settle periods, send meter
readings, and show books, orders, trades, posted prices and settlement statements.

Every command works offline on the chain file of ``--dir`` (the default) or against a
running node with ``--url``, like `gridledger show`; ``--json`` prints JSON (the API's
shapes) instead of a table. Writes are signed with a key file of ``--dir``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import zip_longest
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from gridledger.client import ClientError, HttpClient, LocalClient, Wallet
from gridledger.crypto import KeyPair
from gridledger.keystore import KeyFileError, find_key

market_app = typer.Typer(
    help=(
        "The energy market: orders, books, trades, meter readings and settlement. "
        "Offline on the chain in --dir by default, or against a node with --url."
    ),
    no_args_is_help=True,
)

DirOption = typer.Option(
    Path("community"), "--dir", "-d", help="Community directory (genesis, keys, chain)"
)
UrlOption = typer.Option(
    None,
    "--url",
    help="Node API URL(s), comma-separated; without it, the chain in --dir is opened directly",
)
JsonOption = typer.Option(False, "--json", help="Print JSON instead of a table")
KeyOption = typer.Option(..., "--key", "-k", help="Signing key: a name in DIR/keys or a .key file")
PeriodArgument = typer.Argument(
    None, help="Delivery period (default: the next period open for orders)", show_default=False
)


def _console() -> Console:
    return Console()  # made per command, so it sees the terminal width of the moment


def fail(message: str, code: int = 1) -> typer.Exit:
    Console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code)


def print_json(value: Any) -> None:
    _console().print_json(json.dumps(value))


@contextlib.contextmanager
def connect(url: str | None, directory: Path) -> Iterator[HttpClient | LocalClient]:
    """A client of the node at `url`, or of the chain file in `directory`; closed after."""
    from gridledger.cli import make_client

    client = make_client(url, directory)
    try:
        yield client
    except ClientError as error:
        raise fail(str(error)) from error
    except KeyFileError as error:
        raise fail(str(error)) from error
    finally:
        if isinstance(client, HttpClient):
            client.close()
        else:
            client.node.close()


def _key(directory: Path, name: str) -> KeyPair:
    try:
        return find_key(directory, name)
    except KeyFileError as error:
        raise fail(str(error)) from error


def _address(text: str, directory: Path) -> str:
    from gridledger.cli import _address_or_name

    return _address_or_name(text, directory)


def _period_or_open(client: HttpClient | LocalClient, period: int | None) -> int:
    if period is None:
        return int(client.market_current()["open_period"])
    if period < 0:
        raise fail(f"period {period} is negative")
    return period


def _names(client: HttpClient | LocalClient) -> dict[str, str]:
    """Member names by address, to show names instead of addresses."""
    return {m["address"]: m["name"] for m in client.members()}


def _who(address: str, names: dict[str, str]) -> str:
    return names.get(address, address)


def _time(seconds: int) -> str:
    try:
        moment = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, ValueError, OSError):
        return f"{seconds} s"
    return f"{moment} ({seconds} s)"


def _num(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def _window_lines(view: dict[str, Any]) -> str:
    times = view["window"]
    return (
        f"phase [bold]{view['phase']}[/bold] (block time {_time(view['now_s'])})\n"
        f"gate closure {_time(times['gate_closure_s'])}, start {_time(times['start_s'])}, "
        f"end {_time(times['end_s'])}, meter window ends {_time(times['meter_window_end_s'])}"
    )


def _submit(
    client: HttpClient | LocalClient,
    keys: KeyPair,
    contract: str,
    method: str,
    args: dict[str, Any],
) -> dict[str, Any]:
    """Sign, submit and wait for the commit; the receipt view says if the call was refused."""
    return Wallet(keys, client).call(contract, method, args, wait=True)


def _finish(view: dict[str, Any], as_json: bool, extra: dict[str, Any] | None = None) -> None:
    """Print a committed call (JSON or a line) and exit 2 if its transaction was refused."""
    refused = view.get("status") == "committed" and view.get("code") != 0
    if as_json:
        print_json({**view, **(extra or {})})
    elif view.get("status") != "committed":
        _console().print(
            f"transaction {view.get('id')} is {view.get('status')} (not committed yet)"
        )
    elif not refused:
        _console().print(
            f"committed in block {view['height']} (transaction {view['id']})", highlight=False
        )
    if refused:
        raise fail(f"refused ({view.get('result')}): {view.get('message')}", code=2)


# -- writes ------------------------------------------------------------------------------------


def _place(
    side: str,
    key: str,
    energy_wh: int,
    price: int,
    period: int | None,
    expiry: int,
    directory: Path,
    url: str | None,
    as_json: bool,
) -> None:
    keys = _key(directory, key)
    with connect(url, directory) as client:
        target = _period_or_open(client, period)
        args: dict[str, Any] = {
            "side": side,
            "energy_wh": energy_wh,
            "price_micro_per_kwh": price,
            "period": target,
        }
        if expiry:
            args["expiry_s"] = expiry
        view = _submit(client, keys, "market", "place_order", args)
        placed = [
            e["attributes"]
            for e in view.get("events", [])
            if e["contract"] == "market" and e["name"] == "order_placed"
        ]
        order = client.market_order(placed[0]["order_id"]) if placed else None
        if as_json or not placed:
            _finish(view, as_json, {"order": order})
            return
        assert order is not None
        table = Table("order", "side", "period", "energy Wh", "filled Wh", "limit µ/kWh", "status")
        table.add_row(
            order["order_id"],
            order["side"],
            str(order["period"]),
            _num(order["energy_wh"]),
            _num(order["filled_wh"]),
            _num(order["price_micro_per_kwh"]),
            order["status"],
        )
        console = _console()
        console.print(table)
        escrow = placed[0].get("escrow_micro", 0)
        console.print(
            f"escrowed {_num(escrow)} µ; {placed[0].get('trades', 0)} trade(s) on arrival; "
            f"block {view['height']}, transaction {view['id']}",
            highlight=False,
        )


@market_app.command("buy")
def buy(
    key: str = KeyOption,
    energy_wh: int = typer.Option(..., "--energy-wh", help="Energy to buy, Wh"),
    price: int = typer.Option(..., "--price", help="Limit: the most you pay, micro-units per kWh"),
    period: int | None = typer.Option(None, help="Delivery period (default: next open)"),
    expiry: int = typer.Option(0, help="Expiry, seconds since the epoch (0: end of the period)"),
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Place a buy order (escrows its maximum cost)."""
    _place("buy", key, energy_wh, price, period, expiry, directory, url, as_json)


@market_app.command("sell")
def sell(
    key: str = KeyOption,
    energy_wh: int = typer.Option(..., "--energy-wh", help="Energy to sell, Wh"),
    price: int = typer.Option(
        ..., "--price", help="Limit: the least you accept, micro-units per kWh"
    ),
    period: int | None = typer.Option(None, help="Delivery period (default: next open)"),
    expiry: int = typer.Option(0, help="Expiry, seconds since the epoch (0: end of the period)"),
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Place a sell order."""
    _place("sell", key, energy_wh, price, period, expiry, directory, url, as_json)


@market_app.command("cancel")
def cancel(
    order_id: str,
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Cancel one of your open orders (before gate closure); its escrow is released."""
    keys = _key(directory, key)
    with connect(url, directory) as client:
        client.market_order(order_id)  # a clear "no order" before signing anything
        view = _submit(client, keys, "market", "cancel_order", {"order_id": order_id})
        _finish(view, as_json, {"order": client.market_order(order_id)})


@market_app.command("clear")
def clear(
    period: int,
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Clear a period's book (once, at or after its gate closure)."""
    keys = _key(directory, key)
    with connect(url, directory) as client:
        target = _period_or_open(client, period)
        view = _submit(client, keys, "market", "clear", {"period": target})
        if not as_json and view.get("code") == 0:
            trades = client.market_trades(target)
            _console().print(
                f"period {target} cleared: {trades['count']} trade(s), "
                f"{_num(trades['traded_wh'])} Wh",
                highlight=False,
            )
        _finish(view, as_json)


@market_app.command("settle")
def settle(
    period: int,
    key: str = KeyOption,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Settle a period (once, after its meter window closes)."""
    keys = _key(directory, key)
    with connect(url, directory) as client:
        target = _period_or_open(client, period)
        view = _submit(client, keys, "settlement", "settle", {"period": target})
        if not as_json and view.get("code") == 0:
            _print_summary(client.settlement(target), _names(client))
        _finish(view, as_json)


@market_app.command("reading")
def reading(
    meter_key: str = typer.Option(..., "--meter-key", help="The meter's key (name or .key file)"),
    member: str = typer.Option(..., "--member", help="The member metered: key name or address"),
    period: int | None = typer.Option(
        None, help="Delivery period (default: the one that ended last)"
    ),
    exported_wh: int = typer.Option(..., "--exported-wh", help="Energy delivered to the grid, Wh"),
    imported_wh: int = typer.Option(..., "--imported-wh", help="Energy drawn from the grid, Wh"),
    key: str | None = typer.Option(
        None, "--key", "-k", help="Relay through this member's key (default: the meter sends)"
    ),
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Send a meter reading signed by the meter key, within the period's meter window."""
    from gridledger.contracts.metering import reading_message

    meter = _key(directory, meter_key)
    sender = meter if key is None else _key(directory, key)
    address = _address(member, directory)
    with connect(url, directory) as client:
        if period is None:  # the period that ended last, by the node's clock
            now = client.market_current()
            period = now["clock_ms"] // 1000 // now["period_seconds"] - 1
        if period < 0:
            raise fail(f"period {period} is negative")
        message = reading_message(client.chain_id(), address, period, exported_wh, imported_wh)
        args = {
            "member": address,
            "period": period,
            "exported_wh": exported_wh,
            "imported_wh": imported_wh,
            "meter_key": meter.public_key.hex(),
            "signature": meter.sign(message).hex(),
        }
        view = _submit(client, sender, "metering", "record_reading", args)
        _finish(view, as_json)


# -- reads -------------------------------------------------------------------------------------


@market_app.command("current")
def current(
    directory: Path = DirOption, url: str | None = UrlOption, as_json: bool = JsonOption
) -> None:
    """The current delivery period and the next one open for orders."""
    with connect(url, directory) as client:
        view = client.market_current()
    if as_json:
        print_json(view)
        return
    console = _console()
    console.print(f"current period [bold]{view['period']}[/bold] (head block {view['height']})")
    console.print(_window_lines(view))
    opens = view["open_window"]
    console.print(
        f"next period open for orders: [bold]{view['open_period']}[/bold], gate closes "
        f"{_time(opens['gate_closure_s'])}"
    )


@market_app.command("book")
def book(
    period: int | None = PeriodArgument,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """The order book of a period: open energy and orders per limit price, both sides."""
    with connect(url, directory) as client:
        view = client.market_book(_period_or_open(client, period))
    if as_json:
        print_json(view)
        return
    flags = [name for name in ("cleared", "settled") if view[name]]
    title = (
        f"period {view['period']} book ({view['mechanism']}"
        f"{', ' + ', '.join(flags) if flags else ''})"
    )
    table = Table(
        "bid orders", "bid Wh", "bid µ/kWh", "ask µ/kWh", "ask Wh", "ask orders", title=title
    )
    for bid, ask in zip_longest(view["bids"], view["asks"]):
        table.add_row(
            _num(bid and bid["orders"]),
            _num(bid and bid["residual_wh"]),
            _num(bid and bid["price_micro_per_kwh"]),
            _num(ask and ask["price_micro_per_kwh"]),
            _num(ask and ask["residual_wh"]),
            _num(ask and ask["orders"]),
        )
    console = _console()
    console.print(table)
    console.print(
        f"{view['open_orders']} open of {view['orders']} order(s), {view['trades']} trade(s), "
        f"{view['offers']} offer(s)",
        highlight=False,
    )
    console.print(_window_lines(view))


@market_app.command("orders")
def orders(
    period: int | None = PeriodArgument,
    owner: str | None = typer.Option(None, "--owner", help="Only this member's: name or address"),
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """The orders of a period, open and closed, in the order they were placed."""
    address = None if owner is None else _address(owner, directory)
    with connect(url, directory) as client:
        view = client.market_orders(_period_or_open(client, period), address)
        names = {} if as_json else _names(client)
    if as_json:
        print_json(view)
        return
    table = Table(
        "order", "owner", "side", "energy Wh", "filled Wh", "limit µ/kWh", "status", "escrow µ",
        title=f"period {view['period']} orders",
    )  # fmt: skip
    for order in view["orders"]:
        table.add_row(
            order["order_id"],
            _who(order["owner"], names),
            order["side"],
            _num(order["energy_wh"]),
            _num(order["filled_wh"]),
            _num(order["price_micro_per_kwh"]),
            order["status"],
            _num(order["escrow_micro"]),
        )
    _console().print(table)


@market_app.command("trades")
def trades(
    period: int | None = PeriodArgument,
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """The trades of a period (book and bilateral), in the order they were made."""
    with connect(url, directory) as client:
        view = client.market_trades(_period_or_open(client, period))
        names = {} if as_json else _names(client)
    if as_json:
        print_json(view)
        return
    table = Table(
        "trade", "buyer", "seller", "energy Wh", "price µ/kWh", "value µ", "how",
        title=f"period {view['period']} trades",
    )  # fmt: skip
    for trade in view["trades"]:
        table.add_row(
            trade["trade_id"],
            _who(trade["buyer"], names),
            _who(trade["seller"], names),
            _num(trade["energy_wh"]),
            _num(trade["price_micro_per_kwh"]),
            _num(trade["value_micro"]),
            f"{trade['mechanism']}/{trade['price_rule']}",
        )
    console = _console()
    console.print(table)
    console.print(
        f"{view['count']} trade(s), {_num(view['traded_wh'])} Wh, {_num(view['value_micro'])} µ",
        highlight=False,
    )


@market_app.command("price")
def price(
    period: int = typer.Argument(..., help="Delivery period"),
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """The price the operator posted for a period (pricing contract, seed 003)."""
    if period < 0:
        raise fail(f"period {period} is negative")
    with connect(url, directory) as client:
        view = client.market_price(period)
        names = {} if as_json else _names(client)
    if as_json:
        print_json(view)
        return
    console = _console()
    console.print(
        f"period {view['period']}: [bold]{_num(view['price_micro_per_kwh'])} µ/kWh[/bold] "
        f"posted by {_who(view['operator'], names)} in block {view['height']} "
        f"(revision {view['revision']}; from a forecast supply of {_num(view['supply_wh'])} Wh "
        f"and demand of {_num(view['demand_wh'])} Wh)",
        highlight=False,
    )
    console.print(_window_lines(view))


STATEMENT_COLUMNS = (
    ("bought Wh", "bought_wh"),
    ("sold Wh", "sold_wh"),
    ("delivered Wh", "delivered_wh"),
    ("consumed Wh", "consumed_wh"),
    ("paid µ", "paid_micro"),
    ("received µ", "received_micro"),
    ("penalised µ", "penalised_micro"),
    ("net µ", "net_micro"),
)


def _print_summary(view: dict[str, Any], names: dict[str, str]) -> None:
    console = _console()
    summary = view["summary"]
    if summary is None:
        console.print(f"period {view['period']} is not settled")
        console.print(_window_lines(view))
        return
    console.print(
        f"period {view['period']} settled in block {summary['height']} by "
        f"{_who(summary['settled_by'], names)}: {summary['trades']} trade(s), "
        f"{_num(summary['traded_wh'])} Wh traded, {_num(summary['exported_wh'])} Wh exported, "
        f"{_num(summary['imported_wh'])} Wh imported; grid supplied "
        f"{_num(summary['grid_supplied_wh'])} Wh and took {_num(summary['grid_taken_wh'])} Wh; "
        f"penalties {_num(summary['penalties_micro'])} µ",
        highlight=False,
    )


@market_app.command("statement")
def statement(
    period: int,
    member: str | None = typer.Argument(None, help="Key name or address (default: everyone)"),
    directory: Path = DirOption,
    url: str | None = UrlOption,
    as_json: bool = JsonOption,
) -> None:
    """Settlement statements of a period: bought, sold, delivered, paid, received, penalised."""
    if period < 0:
        raise fail(f"period {period} is negative")
    address = None if member is None else _address(member, directory)
    with connect(url, directory) as client:
        if address is not None:
            one = client.statement(period, address)
            names = {} if as_json else _names(client)
        else:
            summary = client.settlement(period)
            every = client.statements(period)
            names = {} if as_json else _names(client)
    console = _console()
    if address is not None:
        if as_json:
            print_json(one)
            return
        table = Table("field", "value", title=f"period {period}: {_who(address, names)}")
        for name, value in one.items():
            if name in ("member", "period"):
                continue
            table.add_row(name, _num(value) if isinstance(value, int) else str(value))
        console.print(table)
        return
    if as_json:
        print_json({**summary, "statements": every["statements"]})
        return
    if not every["settled"]:
        raise fail(
            f"period {period} is not settled (phase {summary['phase']}; it can be settled from "
            f"{_time(summary['window']['meter_window_end_s'])})"
        )
    table = Table(
        "member", "reading", *(title for title, _ in STATEMENT_COLUMNS),
        title=f"period {period} statements",
    )  # fmt: skip
    for row in every["statements"]:
        table.add_row(
            _who(row["member"], names),
            row["reading"],
            *(_num(row[field]) for _, field in STATEMENT_COLUMNS),
        )
    console.print(table)
    _print_summary(summary, names)
