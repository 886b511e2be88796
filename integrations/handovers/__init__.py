"""What the partner hands over to TradingView, checked by the product: base URLs, the
authorisation sheet, beta testers. A partner step naming a hand-over in ``handovers`` cannot be
completed while it is missing."""
