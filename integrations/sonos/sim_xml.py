"""Wire formats of the Sonos fake: UPnP descriptions, SOAP envelopes, GENA bodies, DIDL-Lite.

Kept apart from `simulator.py` so the fake's behaviour reads as behaviour; the
shapes here follow what real players send (and what SoCo 0.32 parses).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SCPD_NS = "urn:schemas-upnp-org:service-1-0"
DEVICE_NS = "urn:schemas-upnp-org:device-1-0"
EVENT_NS = "urn:schemas-upnp-org:event-1-0"
AVT_NS = "urn:schemas-upnp-org:metadata-1-0/AVT/"
RCS_NS = "urn:schemas-upnp-org:metadata-1-0/RCS/"
DIDL_OPEN = (
    '<DIDL-Lite xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:upnp="urn:schemas-upnp-org:metadata-1-0/upnp/" '
    'xmlns:r="urn:schemas-rinconnetworks-com:metadata-1-0/" '
    'xmlns="urn:schemas-upnp-org:metadata-1-0/DIDL-Lite/">'
)
ZONE_PLAYER = "urn:schemas-upnp-org:device:ZonePlayer:1"
SOFTWARE_VERSION = "80.1-55014"


@dataclass(frozen=True)
class ServiceSpec:
    """One UPnP service of a player: where it lives and the actions the fake implements."""

    name: str
    control: str
    event: str
    actions: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
    evented: tuple[str, ...] = ()

    @property
    def urn(self) -> str:
        """The service type URN."""
        return f"urn:schemas-upnp-org:service:{self.name}:1"


_SPEED = ("InstanceID", "Speed")
SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in (
        ServiceSpec(
            "AVTransport",
            "/MediaRenderer/AVTransport/Control",
            "/MediaRenderer/AVTransport/Event",
            {
                "SetAVTransportURI": (("InstanceID", "CurrentURI", "CurrentURIMetaData"), ()),
                "Play": (_SPEED, ()),
                "Pause": (_SPEED, ()),
                "Stop": (_SPEED, ()),
                "Next": (_SPEED, ()),
                "Previous": (_SPEED, ()),
                "Seek": (("InstanceID", "Unit", "Target"), ()),
                "GetTransportInfo": (
                    ("InstanceID",),
                    ("CurrentTransportState", "CurrentTransportStatus", "CurrentSpeed"),
                ),
                "GetPositionInfo": (
                    ("InstanceID", "Channel"),
                    (
                        "Track",
                        "TrackDuration",
                        "TrackMetaData",
                        "TrackURI",
                        "RelTime",
                        "AbsTime",
                        "RelCount",
                        "AbsCount",
                    ),
                ),
                "GetMediaInfo": (
                    ("InstanceID",),
                    (
                        "NrTracks",
                        "MediaDuration",
                        "CurrentURI",
                        "CurrentURIMetaData",
                        "NextURI",
                        "NextURIMetaData",
                        "PlayMedium",
                        "RecordMedium",
                        "WriteStatus",
                    ),
                ),
                "GetTransportSettings": (("InstanceID",), ("PlayMode", "RecQualityMode")),
                "AddURIToQueue": (
                    (
                        "InstanceID",
                        "EnqueuedURI",
                        "EnqueuedURIMetaData",
                        "DesiredFirstTrackNumberEnqueued",
                        "EnqueueAsNext",
                    ),
                    ("FirstTrackNumberEnqueued", "NumTracksAdded", "NewQueueLength"),
                ),
                "RemoveAllTracksFromQueue": (("InstanceID",), ()),
                "BecomeCoordinatorOfStandaloneGroup": (
                    ("InstanceID",),
                    ("DelegatedGroupCoordinatorID", "NewGroupID"),
                ),
            },
            ("LastChange",),
        ),
        ServiceSpec(
            "RenderingControl",
            "/MediaRenderer/RenderingControl/Control",
            "/MediaRenderer/RenderingControl/Event",
            {
                "GetVolume": (("InstanceID", "Channel"), ("CurrentVolume",)),
                "SetVolume": (("InstanceID", "Channel", "DesiredVolume"), ()),
                "GetMute": (("InstanceID", "Channel"), ("CurrentMute",)),
                "SetMute": (("InstanceID", "Channel", "DesiredMute"), ()),
            },
            ("LastChange",),
        ),
        ServiceSpec(
            "ZoneGroupTopology",
            "/ZoneGroupTopology/Control",
            "/ZoneGroupTopology/Event",
            {
                "GetZoneGroupState": ((), ("ZoneGroupState",)),
                "GetZoneGroupAttributes": (
                    (),
                    (
                        "CurrentZoneGroupName",
                        "CurrentZoneGroupID",
                        "CurrentZonePlayerUUIDsInGroup",
                        "CurrentMuseHouseholdId",
                    ),
                ),
            },
            ("ZoneGroupState",),
        ),
        ServiceSpec(
            "DeviceProperties",
            "/DeviceProperties/Control",
            "/DeviceProperties/Event",
            {
                "GetHouseholdID": ((), ("CurrentHouseholdID",)),
                "GetZoneAttributes": (
                    (),
                    ("CurrentZoneName", "CurrentIcon", "CurrentConfiguration"),
                ),
            },
            ("ZoneName",),
        ),
        ServiceSpec(
            "ContentDirectory",
            "/MediaServer/ContentDirectory/Control",
            "/MediaServer/ContentDirectory/Event",
            {
                "Browse": (
                    (
                        "ObjectID",
                        "BrowseFlag",
                        "Filter",
                        "StartingIndex",
                        "RequestedCount",
                        "SortCriteria",
                    ),
                    ("Result", "NumberReturned", "TotalMatches", "UpdateID"),
                ),
            },
            ("FavoritesUpdateID", "ContainerUpdateIDs"),
        ),
    )
}


def attr(value: str) -> str:
    """Escape text for a double-quoted XML attribute."""
    return escape(value, {'"': "&quot;"})


def scpd(spec: ServiceSpec) -> str:
    """The service description SoCo reads to learn action signatures."""
    root = ET.Element("scpd", xmlns=SCPD_NS)
    version = ET.SubElement(root, "specVersion")
    ET.SubElement(version, "major").text = "1"
    ET.SubElement(version, "minor").text = "0"
    actions = ET.SubElement(root, "actionList")
    variables: dict[str, bool] = {name: True for name in spec.evented}
    for name, (ins, outs) in spec.actions.items():
        action = ET.SubElement(actions, "action")
        ET.SubElement(action, "name").text = name
        arguments = ET.SubElement(action, "argumentList")
        for direction, args in (("in", ins), ("out", outs)):
            for arg in args:
                element = ET.SubElement(arguments, "argument")
                ET.SubElement(element, "name").text = arg
                ET.SubElement(element, "direction").text = direction
                ET.SubElement(element, "relatedStateVariable").text = f"A_ARG_TYPE_{arg}"
                variables.setdefault(f"A_ARG_TYPE_{arg}", False)
    table = ET.SubElement(root, "serviceStateTable")
    for name, evented in variables.items():
        variable = ET.SubElement(table, "stateVariable", sendEvents="yes" if evented else "no")
        ET.SubElement(variable, "name").text = name
        ET.SubElement(variable, "dataType").text = "string"
    return '<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(root, encoding="unicode")


def device_description(
    *, uid: str, room: str, ip: str, model: str = "Sonos One", model_number: str = "S18"
) -> str:
    """`/xml/device_description.xml`: identity, room name and the service tree."""
    mac = "-".join(uid[7 + i : 9 + i] for i in range(0, 12, 2))

    def services(names: tuple[str, ...]) -> str:
        return "".join(
            f"<service><serviceType>{SERVICES[n].urn}</serviceType>"
            f"<serviceId>urn:upnp-org:serviceId:{n}</serviceId>"
            f"<controlURL>{SERVICES[n].control}</controlURL>"
            f"<eventSubURL>{SERVICES[n].event}</eventSubURL>"
            f"<SCPDURL>/xml/{n}1.xml</SCPDURL></service>"
            for n in names
        )

    return (
        '<?xml version="1.0" encoding="utf-8" ?>'
        f'<root xmlns="{DEVICE_NS}"><specVersion><major>1</major><minor>0</minor></specVersion>'
        f"<device><deviceType>{ZONE_PLAYER}</deviceType>"
        f"<friendlyName>{escape(ip)} - {escape(model)} - {uid}</friendlyName>"
        "<manufacturer>Sonos, Inc.</manufacturer><manufacturerURL>http://www.sonos.com</manufacturerURL>"
        f"<modelNumber>{model_number}</modelNumber>"
        f"<modelDescription>Sonos {escape(model)}</modelDescription>"
        f"<modelName>{escape(model)}</modelName><modelURL>http://www.sonos.com/products/</modelURL>"
        f"<softwareVersion>{SOFTWARE_VERSION}</softwareVersion><swGen>2</swGen>"
        f"<hardwareVersion>1.20.1.6-2.1</hardwareVersion><serialNum>{mac}:E</serialNum>"
        f"<MACAddress>{mac.replace('-', ':')}</MACAddress><UDN>uuid:{uid}</UDN>"
        "<iconList><icon><id>0</id><mimetype>image/png</mimetype><width>48</width><height>48</height>"
        "<depth>24</depth><url>/img/icon-S18.png</url></icon></iconList>"
        f"<minCompatibleVersion>79.0-00000</minCompatibleVersion><displayVersion>16.3</displayVersion>"
        f"<roomName>{escape(room)}</roomName><displayName>{escape(model)}</displayName>"
        f"<serviceList>{services(('ZoneGroupTopology', 'DeviceProperties'))}</serviceList>"
        "<deviceList>"
        "<device><deviceType>urn:schemas-upnp-org:device:MediaServer:1</deviceType>"
        f"<friendlyName>{escape(room)} Media Server</friendlyName><UDN>uuid:{uid}_MS</UDN>"
        f"<serviceList>{services(('ContentDirectory',))}</serviceList></device>"
        "<device><deviceType>urn:schemas-upnp-org:device:MediaRenderer:1</deviceType>"
        f"<friendlyName>{escape(room)} Media Renderer</friendlyName><UDN>uuid:{uid}_MR</UDN>"
        f"<serviceList>{services(('RenderingControl', 'AVTransport'))}</serviceList></device>"
        "</deviceList></device></root>"
    )


def parse_soap(body: bytes) -> tuple[str, dict[str, str]]:
    """The action name and its arguments from a SOAP request body."""
    root = ET.fromstring(body)
    envelope_body = root.find(f"{{{SOAP_ENV}}}Body")
    if envelope_body is None or len(envelope_body) == 0:
        raise ValueError("no SOAP body")
    call = envelope_body[0]
    action = call.tag.rsplit("}", 1)[-1]
    return action, {child.tag.rsplit("}", 1)[-1]: child.text or "" for child in call}


def soap_response(spec: ServiceSpec, action: str, values: dict[str, object]) -> str:
    """A SOAP response envelope with the action's out arguments (text escaped)."""
    args = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in values.items())
    return (
        f'<?xml version="1.0"?><s:Envelope xmlns:s="{SOAP_ENV}" '
        f's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>'
        f'<u:{action}Response xmlns:u="{spec.urn}">{args}</u:{action}Response>'
        "</s:Body></s:Envelope>"
    )


def soap_fault(code: int, description: str = "") -> str:
    """A UPnPError SOAP fault (sent with HTTP 500)."""
    return (
        f'<?xml version="1.0"?><s:Envelope xmlns:s="{SOAP_ENV}" '
        f's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><s:Fault>'
        "<faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>"
        f'<UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>{code}</errorCode>'
        f"<errorDescription>{escape(description)}</errorDescription></UPnPError>"
        "</detail></s:Fault></s:Body></s:Envelope>"
    )


def last_change(namespace: str, values: dict[str, str], channelled: dict[str, str]) -> str:
    """A LastChange document (AVT or RCS) for InstanceID 0."""
    root = ET.Element("Event", xmlns=namespace)
    instance = ET.SubElement(root, "InstanceID", val="0")
    for name, value in values.items():
        ET.SubElement(instance, name, val=value)
    for name, value in channelled.items():
        ET.SubElement(instance, name, channel="Master", val=value)
    return ET.tostring(root, encoding="unicode")


def propertyset(properties: dict[str, str]) -> str:
    """A GENA NOTIFY body with one property per evented variable."""
    root = ET.Element("e:propertyset", {"xmlns:e": EVENT_NS})
    for name, value in properties.items():
        prop = ET.SubElement(root, "e:property")
        ET.SubElement(prop, name).text = value
    return '<?xml version="1.0"?>' + ET.tostring(root, encoding="unicode")


def didl_track(item_id: str, title: str, artist: str, album: str, uri: str) -> str:
    """DIDL-Lite for one music track."""
    return (
        f'{DIDL_OPEN}<item id="{escape(item_id)}" parentID="Q:0" restricted="true">'
        f'<res protocolInfo="x-file-cifs:*:audio/flac:*" duration="0:03:30">{escape(uri)}</res>'
        f"<dc:title>{escape(title)}</dc:title><upnp:class>object.item.audioItem.musicTrack</upnp:class>"
        f"<dc:creator>{escape(artist)}</dc:creator><upnp:album>{escape(album)}</upnp:album>"
        "</item></DIDL-Lite>"
    )


def didl_stream(title: str, stream_content: str) -> str:
    """DIDL-Lite for the current item of a radio stream ("Artist - Title" in streamContent)."""
    return (
        f'{DIDL_OPEN}<item id="-1" parentID="-1" restricted="true">'
        '<res protocolInfo="x-rincon-mp3radio:*:*:*"></res>'
        f"<r:streamContent>{escape(stream_content)}</r:streamContent>"
        f"<dc:title>{escape(title)}</dc:title><upnp:class>object.item</upnp:class>"
        "</item></DIDL-Lite>"
    )


def didl_radio_station(title: str) -> str:
    """DIDL-Lite describing a radio station (what a favourite's resMD holds)."""
    return (
        f'{DIDL_OPEN}<item id="R:0/0/0" parentID="R:0/0" restricted="true">'
        f"<dc:title>{escape(title)}</dc:title>"
        "<upnp:class>object.item.audioItem.audioBroadcast</upnp:class>"
        '<desc id="cdudn" nameSpace="urn:schemas-rinconnetworks-com:metadata-1-0/">'
        "SA_RINCON65031_</desc></item></DIDL-Lite>"
    )


def didl_playlist(playlist_id: str, title: str) -> str:
    """DIDL-Lite describing a saved Sonos playlist container."""
    return (
        f'{DIDL_OPEN}<container id="{escape(playlist_id)}" parentID="SQ:" restricted="true">'
        f"<dc:title>{escape(title)}</dc:title>"
        "<upnp:class>object.container.playlistContainer</upnp:class>"
        '<desc id="cdudn" nameSpace="urn:schemas-rinconnetworks-com:metadata-1-0/">'
        "RINCON_AssociatedZPUDN</desc></container></DIDL-Lite>"
    )


def didl_favourites(entries: list[tuple[str, str, str, str, str]]) -> str:
    """The FV:2 container: (title, uri, protocol, description, resMD) per favourite."""
    items = "".join(
        f'<item id="FV:2/{n}" parentID="FV:2" restricted="false">'
        f"<dc:title>{escape(title)}</dc:title>"
        "<upnp:class>object.itemobject.item.sonos-favorite</upnp:class>"
        f"<r:ordinal>{n}</r:ordinal>"
        f'<res protocolInfo="{escape(protocol)}">{escape(uri)}</res>'
        f"<r:type>instantPlay</r:type><r:description>{escape(description)}</r:description>"
        f"<r:resMD>{escape(res_md)}</r:resMD></item>"
        for n, (title, uri, protocol, description, res_md) in enumerate(entries)
    )
    return f"{DIDL_OPEN}{items}</DIDL-Lite>"


def didl_items(fragments: list[str]) -> str:
    """Join several single-item DIDL documents into one (for a queue browse)."""
    inner = "".join(f.removeprefix(DIDL_OPEN).removesuffix("</DIDL-Lite>") for f in fragments)
    return f"{DIDL_OPEN}{inner}</DIDL-Lite>"
