"""The card wallet's screens in the desktop suite: each module's ``build_tab(parent, context)`` is
a tab factory named in the plugin's manifest. Among them (docs/wallet-screens.md):

* ``plugins.wallet.ui.cashier:build_tab``: the cashier and stall panel (tab ``wallet.cashier``):
  a card presented on the reader or typed in pops up its panel; consume, top up, history and
  report lost; a receipt after every consume and top-up;
* ``plugins.wallet.ui.selfquery:build_tab``: the customer's card enquiry (tab
  ``wallet.selfquery``): balances, validity, status and history; clears itself when idle.

They call ``WalletService`` with the logged-in operator, off the Tk thread.
"""
