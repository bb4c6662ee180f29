"""The trade table of a result: sortable, filterable, paginated (Dash DataTable)."""

from __future__ import annotations

from typing import Any

from dash import dash_table

from components.result_data import TRADE_COLUMNS

PAGE_SIZE = 15
_FORMATS = {"entry_price": ".2f", "exit_price": ".2f", "units": ".4f", "pnl": ",.2f",
            "return": ".2%"}


def trade_table(trades: list[dict[str, Any]], table_id: str = "trade-table"
                ) -> dash_table.DataTable:
    columns = []
    for name in TRADE_COLUMNS:
        column: dict[str, Any] = {"name": name.replace("_", " "), "id": name}
        if name in _FORMATS:
            column.update(type="numeric", format={"specifier": _FORMATS[name]})
        columns.append(column)
    rows = [{**trade, "id": number} for number, trade in enumerate(trades, start=1)]
    return dash_table.DataTable(
        id=table_id, columns=columns, data=rows, sort_action="native", filter_action="native",
        page_action="native", page_size=PAGE_SIZE,
        style_table={"overflowX": "auto"},
        style_header={"backgroundColor": "#3a3f44", "color": "#e9ecef", "fontWeight": "bold",
                      "border": "1px solid #444"},
        style_cell={"backgroundColor": "#2b3035", "color": "#c8c8c8",
                    "border": "1px solid #3a3f44", "fontSize": "0.85rem",
                    "fontFamily": "inherit", "padding": "4px 8px"},
        style_filter={"backgroundColor": "#32383e", "color": "#e9ecef"},
        style_data_conditional=[
            {"if": {"filter_query": "{pnl} > 0", "column_id": "pnl"}, "color": "#2ecc71"},
            {"if": {"filter_query": "{pnl} < 0", "column_id": "pnl"}, "color": "#e74c3c"}],
    )
