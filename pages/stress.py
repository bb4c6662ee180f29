"""Stress tests: historical crises, shock transplants and Monte Carlo paths."""

import dash

from components.coming import coming_soon

layout = coming_soon(
    "Stress tests",
    "How would the strategy have done in the crises that already happened, and the next one?",
    [
        "2008, 2020 COVID crash, 2022 bear market and more, against buy-and-hold",
        "Shock transplant: “what if 2020 happened next month”",
        "Monte Carlo fan chart from block-bootstrapped returns",
    ],
)

dash.register_page(
    __name__, path="/stress", name="Stress", title="Stress · Strategy Arena", layout=layout
)
