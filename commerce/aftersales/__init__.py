"""After-sales: a shopper's request to get money back for some lines of an order (refund only,
or return and refund), its review by the merchant, the return, and the refund through payments.
The order learns only the outcome: partly refunded, or fully refunded and closed."""
