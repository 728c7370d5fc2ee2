from gridchain.coordination.model import ChargingRequest, Slot


def req(id: str, demand_w: int, soc_pm: int, tcc: int, arrival: int = 0) -> ChargingRequest:
    return ChargingRequest(id, demand_w, soc_pm, tcc, arrival)


def slot(capacity_w: int, *requests: ChargingRequest, beta1_pm: int = 500) -> Slot:
    return Slot(capacity_w, requests, beta1_pm)


def grants(schedule) -> dict[str, tuple[int, str]]:
    return {a.id: (a.granted_w, str(a.status)) for a in schedule.allocations}
