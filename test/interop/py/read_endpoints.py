"""
The official client against replicas: logs in to the first URI, takes the FlightInfo of a
dataset, reads each endpoint from the first location it names (a new connection per location,
with the same bearer token), and prints one JSON line: the endpoint count, the distinct first
locations and the ids read, in order.

usage: read_endpoints.py URI DATASET
"""
import json
import sys

import pyarrow.flight as flight

uri, dataset = sys.argv[1:3]
client = flight.FlightClient(uri)
options = flight.FlightCallOptions(headers=[client.authenticate_basic_token(b"admin", b"admin123")])
info = client.get_flight_info(flight.FlightDescriptor.for_path(dataset), options)
ids, firsts, connections = [], [], {}
for endpoint in info.endpoints:
    location = endpoint.locations[0].uri.decode()
    firsts.append(location)
    reader = connections.setdefault(location, flight.FlightClient(location))
    ids.extend(reader.do_get(endpoint.ticket, options).read_all().column("id").to_pylist())
print(json.dumps({"endpoints": len(info.endpoints), "first_locations": sorted(set(firsts)), "ids": ids}))
