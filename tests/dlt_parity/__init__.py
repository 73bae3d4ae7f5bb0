"""dlt as the referee: the same rest_api_source config run through dlt and through the tap."""
