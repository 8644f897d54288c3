"""Sample data for every built-in layout (``venue-suite printer print-test``, tests, benchmark)."""

from __future__ import annotations

from typing import Any

SAMPLE_QR_PAYLOAD = ("VS1.eyJ0IjoiVC0yMDI2MTEyMi0wMDA0MiIsInMiOiJTRVNTLTE5MzAiLCJzZWF0IjoiRi0xMiIsImV4cCI6MTc5"
                     "NTM4NDAwMH0.q3Jm0y7tQm9m6c1d0b9GvH2b7Yl5mJ7oS3Xy0ZsV1m2pQe8rT4uW6yA0cB2dE4fG6hI8jK0lM2nO4pQ6rS8tA")


def sample_data(layout_id: str, chinese: bool = False) -> dict[str, Any]:
    """A plausible data dict for ``layout_id``, with Chinese names when ``chinese``."""
    venue = "星光影城 万达店" if chinese else "Starlight Cinema Riverside"
    common: dict[str, Any] = {"venue": venue, "cashier": "王芳" if chinese else "Alice", "operator": "王芳" if chinese else "Alice",
                              "time": "2026-11-22 19:05"}
    samples: dict[str, dict[str, Any]] = {
        "receipt": {
            "address": "北京市朝阳区建国路 88 号" if chinese else "88 River Road",
            "receipt_no": "R20261122-0042",
            "items": [
                {"name": "爆米花（大）" if chinese else "Popcorn (large)", "qty": 1, "amount": 3500},
                {"name": "可乐" if chinese else "Cola", "qty": 2, "amount": 1600},
                {"name": "电影票 流浪地球2" if chinese else "Ticket The Wandering Earth 2", "qty": 2, "amount": 9000},
            ],
            "total": 14100,
            "payments": [{"method": "会员卡" if chinese else "Member card", "amount": 14100}],
            "card_no": "8800 0000 1234",
            "card_balance": 25900,
        },
        "ticket": {
            "show": "流浪地球2" if chinese else "The Wandering Earth 2",
            "session_time": "2026-11-22 19:30",
            "hall": "3号厅 IMAX" if chinese else "Hall 3 IMAX",
            "row": "F", "seat": "12",
            "ticket_type": "成人" if chinese else "Adult",
            "price": 4500,
            "ticket_no": "T-20261122-00042",
            "qr_payload": SAMPLE_QR_PAYLOAD,
        },
        "topup_slip": {
            "card_no": "8800 0000 1234", "card_type": "金卡" if chinese else "Gold", "amount": 50000,
            "bonus": 5000, "balance": 80900, "transaction_no": "TU-000381",
        },
        "rental_slip": {
            "rental_no": "RN-000127", "item": "双人自行车" if chinese else "Tandem bicycle", "tag": "BIKE-07",
            "time_out": "2026-11-22 10:00", "time_back": "2026-11-22 12:20", "duration": "2:20",
            "deposit": 20000, "fee": 6000, "refund": 14000,
        },
        "shift_report": {
            "terminal": "BOX-03", "opened": "2026-11-22 09:00", "closed": "2026-11-22 17:00", "float": 50000,
            "by_method": [{"method": "现金" if chinese else "Cash", "amount": 123400},
                          {"method": "会员卡" if chinese else "Member card", "amount": 98000}],
            "sales_count": 57, "refunds": 4500, "total": 221400, "expected_cash": 173400,
            "counted_cash": 173400, "difference": 0,
        },
    }
    return {**common, **samples[layout_id]}
