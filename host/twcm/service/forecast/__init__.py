"""Solar forecasts for the planner: base.py (the interface and the registry), one module
per service (forecast_solar.py, open_meteo.py), each registering itself."""
