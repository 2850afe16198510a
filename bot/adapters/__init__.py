"""Platform adapters: each turns platform updates into `Inbound` and renders `Response`."""
