"""The differential scripts: command sequences run from an empty database.

Each script is a list of steps; a step is a shell-like string (split with
shlex; the runner prepends --db=<server> --no-wait) or a tuple
(string, mode[, raw]) where mode says how to compare stdout when ovs-vsctl
itself does not define an order ("exact", "blocks", "lines", "rows:N",
"json", "show", "rc"; inferred from the command when omitted) and raw=True
means the step gives its own global options ("{db}" = the server).
Adding a case is adding a line.
"""

VM = "c1018351-a229-4209-9faf-42446e0b53e5"
IFID = "5a70be5b-5576-4734-9f61-61cdfc4a884a"
MAC = "52:54:00:ab:cd:ef"

SCRIPTS = {}

# --- global options, command-line errors, transactions -------------------
SCRIPTS["global"] = [
    "show",                                   # empty database: creates root
    "init",
    "show",
    ("--commands", "lines"),                 # OVS prints hash order
    ("--options", "exact"),
    ("--help", "rc"),
    ("--version", "rc"),
    ("-V", "rc"),
    "",                                       # no command at all
    "--",
    "frobnicate",
    "--bogus-opt list-br",
    ("--timeout=abc list-br", "exact"),
    ("--timeout=0 list-br", "exact"),
    ("-t abc list-br", "exact"),
    "add-br",
    "add-br a b c d",
    "add-br a b",
    "add-br a -- b",
    "add-br a b --may-exist",
    "del-br --may-exist x",
    "--may-exist del-br x",
    "--if-exists --if-exists del-br x",
    "list-br --real",
    "--real --fake list-br",
    ("--db=unix:/nonexistent/db.sock --no-wait list-br", None, True),
    ("--db=tcp:127.0.0.1:1 --no-wait list-br", None, True),
    ("--db=bogus:x --no-wait list-br", None, True),
    ("--db=unix:/nonexistent/a.sock,unix:/nonexistent/b.sock --no-wait "
     "list-br", None, True),
    ("--db={db} --no-wait --retry list-br", None, True),
    ("--no-wait --db={db} -- add-br rb0", None, True),
    ("--db {db} --no-wait list-br", None, True),
    "--dry-run add-br dry0",
    "list-br",
    "--dry-run --id=@q create Queue other_config:min-rate=1",
    "list Queue",
    "add-br br0 -- add-br br1 -- list-br",
    "--oneline list-br -- list-ports br0 -- br-exists br1",
    "--oneline -- add-port br0 p1 -- get Port p1 name -- add-port br0 p2",
    "add-br br2 --",                          # ifupdown's trailing --
    "-- -- add-br br3 -- -- --",
    "comment hello world -- list-br",
    "comment",
    "add-br br4 -- frob",                     # one bad command: none runs
    "add-br br5 -- add-br br5",
    "list-br",
    "--no-headings --may-exist add-br br0",   # options before the command
    "--may-exist --db=x add-br br0",
]

# --- bridges, fake bridges -----------------------------------------------
SCRIPTS["bridges"] = [
    "init",
    "add-br br0",
    "add-br br0",
    "--may-exist add-br br0",
    "add-br ''",
    "add-br fk br0 10",
    "add-br fk2 br0 10",
    "add-br fk3 br0 4096",
    "add-br fk3 br0 -1",
    "add-br fk3 br0 junk",
    "add-br fk3 nobr 10",
    "add-br fk3 fk 11",
    "--may-exist add-br fk",
    "--may-exist add-br fk br0 10",
    "--may-exist add-br fk br0 11",
    "add-br br1",
    "--may-exist add-br fk br1 10",
    "--may-exist add-br br0 br1 3",
    "add-br fk0 br1 0",
    "list-br",
    "list-br --real",
    "--real list-br",
    "--fake list-br",
    "br-exists br0",
    "br-exists fk",
    "br-exists nobr",
    "br-exists",
    "br-to-vlan br0",
    "br-to-vlan fk",
    "br-to-vlan fk0",
    "br-to-vlan nobr",
    "br-to-parent br0",
    "br-to-parent fk",
    "br-to-parent nobr",
    "br-set-external-id br0 k1 v1",
    "br-set-external-id br0 k2 'v 2'",
    "br-set-external-id fk k1 fv1",
    "br-set-external-id nobr k v",
    "br-get-external-id br0",
    "br-get-external-id br0 k1",
    "br-get-external-id br0 nokey",
    "br-get-external-id fk",
    "br-get-external-id fk k1",
    "br-set-external-id br0 k1",
    "br-set-external-id fk k1",
    "br-get-external-id br0",
    "br-get-external-id fk",
    "br-get-external-id nobr",
    "get Bridge br0 external_ids",
    "get Port fk external_ids",
    "add-port br0 p1",
    "add-port fk p2",
    "add-br p1",
    "add-br fk br0 10",
    "add-bond br0 bond0 e1 e2",
    "add-br e1",
    "show",
    "del-br nobr",
    "--if-exists del-br nobr",
    "del-br fk",
    "list-br",
    "list-ports br0",
    "add-br fk br0 10 -- add-port fk p3",
    "del-br br0",
    "list-br",
    "list Port",
    "del-br",
    "del-br a b",
    "add-br 'sp ace'",
    "add-br br-x.y_z",
    "add-br 123",
    "list-br",
    "show",
]

# --- ports, interfaces, bonds --------------------------------------------
SCRIPTS["ports"] = [
    "add-br br0 -- add-br br1 -- add-br fk br0 10",
    "add-port br0 p1",
    "add-port br0 p1",
    "--may-exist add-port br0 p1",
    "--may-exist add-port br1 p1",
    "add-port br1 p1",
    "add-port br0 br1",
    "add-port br0 ''",
    "add-port nobr p9",
    "add-port br0",
    "add-port br0 p2 tag=5 trunks=1,2,3 other_config:a=b",
    "add-port br0 p3 tag=5000",
    "add-port br0 p3 vlan_mode=bogus",
    "add-port br0 p3 nocol=1",
    "add-port br0 p3 tag",
    "add-port br0 p3 =5",
    "add-port br0 p3 name=x",
    "add-port fk vif1",
    "add-port fk vif2 tag=20",
    "get Port vif1 tag",
    "get Port vif2 tag",
    "list-ports br0",
    "list-ports br1",
    "list-ports fk",
    "list-ports nobr",
    "list-ifaces br0",
    "list-ifaces fk",
    "list-ifaces nobr",
    "port-to-br p1",
    "port-to-br vif1",
    "port-to-br br0",
    "port-to-br nope",
    "iface-to-br p1",
    "iface-to-br vif1",
    "iface-to-br nope",
    "add-bond br0 bond0 e1 e2",
    "add-bond br0 bond0 e1 e2",
    "--may-exist add-bond br0 bond0 e1 e2",
    "--may-exist add-bond br0 bond0 e1 e3",
    "add-bond br0 bond1 e5",
    "add-bond br0 bond1 e5 bond_mode=balance-slb",
    "add-bond br0 bond1 e1 e6",
    "add-bond br0 bond1 p1 e6",
    "--fake-iface add-bond br0 bond2 e7 e8 bond_mode=active-backup lacp=active",
    "get Port bond2 bond_fake_iface bond_mode lacp",
    "add-bond fk bondf e9 e10",
    "get Port bondf tag",
    "list-ifaces br0",
    "iface-to-br e1",
    "add-bond-iface bond0 e3",
    "add-bond-iface bond0 e3",
    "--may-exist add-bond-iface bond0 e3",
    "--may-exist add-bond-iface bond0 e7",
    "add-bond-iface nobond e4",
    "add-bond-iface bond0",
    "del-bond-iface bond0 e3",
    "del-bond-iface bond0 e3",
    "--if-exists del-bond-iface bond0 e3",
    "del-bond-iface e2",
    "del-bond-iface bond0 e7",
    "del-bond-iface p1 p1",
    "del-bond-iface bond0 e1 -- del-bond-iface bond0 e2",
    "list-ifaces br0",
    "del-port br0 nope",
    "--if-exists del-port br0 nope",
    "--if-exists del-port nope",
    "del-port br1 p1",
    "del-port br0 vif1",
    "del-port fk vif1",
    "del-port br0 br0",
    "del-port br0",
    "del-port e8",
    "--with-iface del-port e8",
    "del-port nobr p2",
    "del-port p2",
    "--with-iface del-port br0 p1",
    "list-ports br0",
    "list-ifaces br0",
    "list-ports fk",
    "del-port br0 a b",
    "add-port br0 'tap 1' -- add-port br0 tap-2 -- add-port br0 _x",
    "list-ports br0",
    "show",
    "list Interface",
    # reads see the writes of earlier commands of the same invocation
    "add-port br0 rw1 -- show",
    "del-port br0 rw1 -- add-bond br0 rw2 e20 e21 -- show",
    "add-port br0 rw3 -- list-ports br0 -- list-ifaces br0 -- "
    "port-to-br rw3 -- iface-to-br e20",
    "set Port rw3 tag=9 -- --columns=name find Port tag=9",
]

# --- controllers, fail mode, manager, SSL, auto-attach, datapaths ---------
SCRIPTS["misc"] = [
    "add-br br0 -- add-br fk br0 10",
    "get-controller br0",
    "set-controller br0 tcp:1.2.3.4:6653 ssl:5.6.7.8",
    "get-controller br0",
    "set-controller br0 bogus:1",
    "get-controller br0",
    "--inactivity-probe=3000 set-controller br0 tcp:1.2.3.4:6653",
    "list Controller",
    "set-controller fk tcp:1.1.1.1",
    "get-controller fk",
    "set-controller nobr tcp:1.1.1.1",
    "set-controller br0",
    "del-controller br0",
    "get-controller br0",
    "del-controller fk",
    "get-fail-mode br0",
    "set-fail-mode br0 secure",
    "get-fail-mode br0",
    "set-fail-mode br0 bogus",
    "set-fail-mode fk secure",
    "get-fail-mode fk",
    "set-fail-mode br0",
    "del-fail-mode br0",
    "get-fail-mode br0",
    "del-fail-mode fk",
    "get-manager",
    "set-manager ptcp:6640 tcp:1.2.3.4:6640",
    "get-manager",
    "--inactivity-probe=5000 set-manager ptcp:6641",
    "list Manager",
    "set-manager bogus:1",
    "get-manager",
    "del-manager",
    "get-manager",
    "set-manager",
    "get-ssl",
    "set-ssl /k /c /ca",
    "get-ssl",
    "--bootstrap set-ssl /k2 /c2 /ca2",
    "get-ssl",
    "set-ssl /k /c",
    "del-ssl",
    "get-ssl",
    "add-aa-mapping br0 100 10",
    "add-aa-mapping br0 200 20",
    "get-aa-mapping br0",
    "add-aa-mapping br0 x 10",
    "add-aa-mapping nobr 1 2",
    "del-aa-mapping br0 100 10",
    "get-aa-mapping br0",
    "list-zone-tp system",
    "add-zone-tp system zone=1 icmp_first=1",
    "del-zone-tp system zone=1",
    "list-dp-cap system",
    "-- --id=@d create Datapath -- set Open_vSwitch . datapaths:system=@d",
    "add-zone-tp system zone=1 icmp_first=1 icmp_reply=2",
    "add-zone-tp system zone=1 icmp_first=5",
    "--may-exist add-zone-tp system zone=1 icmp_first=5",
    "add-zone-tp system zone=x icmp_first=5",
    "add-zone-tp system zone=2",
    "list-zone-tp system",
    "del-zone-tp system zone=9",
    "--if-exists del-zone-tp system zone=9",
    "del-zone-tp system zone=1",
    "list-zone-tp system",
    "list-dp-cap system",
    "set Datapath . capabilities:ct_zone=true capabilities:recirc=true",
    "list-dp-cap system",
    "list-zone-tp netdev",
    "show",
]

# --- database commands ----------------------------------------------------
SCRIPTS["database"] = [
    "add-br br0 -- add-port br0 p1 tag=3 -- add-port br0 p2 tag=10",
    "list Bridge",
    "list Bridge br0",
    "list Bridge br0 nobr",
    "--if-exists list Bridge br0 nobr",
    "list Nope",
    "list M",
    "list br br0",
    "list Open_vSwitch .",
    "list Port p1 p2",
    "--columns=name,tag list Port",
    "--columns=_uuid,name list Port p1",
    "--columns=nocol list Port",
    "--columns=bond list Port",
    "find Port tag=3",
    "find Port tag!=3",
    "find Port tag<5",
    "find Port tag>3",
    "find Port tag<=10",
    "find Port tag>=10",
    "find Port 'tag{=}3'",
    "find Port 'tag{!=}3'",
    "find Port 'tag{in}3,10'",
    "find Port 'tag{<=}[3,10]'",
    "find Port 'tag{>=}[]'",
    "find Port 'tag{not-in}3'",
    "find Port tag=3 name=p1",
    "find Port name=p1 --columns=name",
    "--columns=name find Port 'name!=p1'",
    "find Port tag~3",
    "find Port nocol=3",
    "find Port other_config:k=v",
    "find Interface type=internal",
    "find Nope x=1",
    "find Port",
    "get Port p1 tag name",
    "get Port p1 tag:x",
    "get Port nope tag",
    "--if-exists get Port nope tag",
    "get Port p1 other_config:nokey",
    "--if-exists get Port p1 other_config:nokey",
    "get Port p1",
    "get Port p1 nocol",
    "get Port p1 _uuid",
    "--id=@p get Port p1 -- set Bridge br0 mirrors=[]",
    "--id=@p --if-exists get Port p1",
    "--id=p get Port p1",
    "get br br0 name",
    "get p p1 name",
    "set Port p1 tag=4 other_config:k=v other_config:k2=v2",
    "get Port p1 tag other_config other_config:k",
    "set Port p1 name=x",
    "set Port nope tag=1",
    "--if-exists set Port nope tag=1",
    "set Port p1",
    "set Port p1 tag",
    "set Port p1 tag=abc",
    "set Port p1 trunks=1,2,3",
    "set Port p1 trunks=[1,2, 3]",
    "set Port p1 trunks='1 2 3'",
    "set Port p1 trunks=1-3,7",
    "set Port p1 trunks=5-1",
    "set Port p1 trunks=[]",
    "set Port p1 tag=[]",
    "set Port p1 tag=1,2",
    "add Port p1 trunks 5 6",
    "add Port p1 other_config k=new",
    "get Port p1 other_config",
    "add Port p1 other_config k=newer -- get Port p1 tag",
    "get Port p1 other_config",
    "add Port p1 tag 1 2",
    "add Port p1 tag 7 -- get Port p1 name",
    "add Port p1 nocol 1",
    "add Port nope trunks 1",
    "--if-exists add Port nope trunks 1",
    "remove Port p1 trunks 5",
    "remove Port p1 trunks 99",
    "remove Port p1 other_config k2",
    "remove Port p1 other_config k=wrong",
    "remove Port p1 other_config k=newer",
    "get Port p1 trunks other_config",
    "remove Port p1 interfaces p1",
    "remove Port nope trunks 1",
    "--if-exists remove Port nope trunks 1",
    "clear Port p1 trunks other_config",
    "clear Port p1 interfaces",
    "clear Port p1 bond_updelay",
    "clear Port nope trunks",
    "--if-exists clear Port nope trunks",
    "get Port p1 trunks other_config",
    "create Queue other_config:min-rate=100",
    "--id=@q create Queue other_config:min-rate=200 -- "
    "create QoS type=linux-htb queues:0=@q",
    "list QoS",
    "create Bridge name=zz",
    "--id=@b create Bridge name=zz",
    "--id=@x create QoS type=a -- --id=@x create QoS type=b",
    "--id=q create QoS type=a",
    "set Port p1 qos=@nope",
    "create Nope a=b",
    "create QoS nocol=1",
    "--id=@q create Queue -- set Port p1 qos=@q",
    "--id=@m create Mirror name=m1 select_all=true -- "
    "add Bridge br0 mirrors @m",
    "list Mirror",
    "get Mirror m1 name",
    "destroy Bridge br0",
    "list-br",
    "destroy Mirror m1",
    "list Mirror",
    "destroy QoS nope",
    "--if-exists destroy QoS 00000000-0000-0000-0000-000000000001",
    "--all destroy Queue",
    "--all destroy QoS x",
    "--all --if-exists destroy QoS",
    "list Queue",
    "--all destroy QoS",
    "list QoS",
    "remove Port p1 nocol 1",
    "clear Port p1 nocol",
    "destroy Nope x",
    "get Nope x y",
    "set Nope x a=b",
    "get Port p1 bond",
    "set Port p1 bond=1",
    "get Interface p1 statistics:nokey",
    "get port P1 name",
    "get Port 'p1' name",
    "get Port '\"p1\"' name",
    "wait-until Port p1 tag=7",
    "wait-until Bridge br0",
    "wait-until Nope x",
    "wait-until Port p1 nocol=1",
    "get Open_vSwitch . next_cfg cur_cfg",
    "set Open_vSwitch . external_ids:system-id=abc",
    "get Open_vSwitch . external_ids",
    "list Bridge",
]

# --- value syntax ---------------------------------------------------------
SCRIPTS["values"] = [
    "add-br br0 -- add-port br0 p1",
    "set Port p1 other_config:x=a,b",
    "set Port p1 other_config:y=a=b",
    "set Port p1 'other_config:z=some data with spaces'",
    "set Port p1 'other_config:\"a:b\"=c'",
    "set Port p1 'other_config:q=\"quoted value\"'",
    "set Port p1 'other_config:e=\"\"'",
    "set Port p1 other_config:e=",
    "set Port p1 'other_config:u=\"unterminated'",
    "set Port p1 'external_ids=\"unterminated'",
    "set Port p1 'vlan_mode=\"unterminated'",
    "add Port p1 cvlans '\"unterminated'",
    "set Port p1 'other_config:mac=52\\:54\\:00\\:ab\\:cd\\:ef'",
    "set Port p1 'other_config:n=\"123\"'",
    "set Port p1 other_config:t=true",
    "get Port p1 other_config",
    "get Port p1 other_config:\"a:b\"",
    "get Port p1 other_config:x other_config:y other_config:z",
    "set Port p1 other_config={c=3,d=4}",
    "get Port p1 other_config",
    "set Port p1 'external_ids={k1=v1 k2=v2}'",
    "set Port p1 external_ids=k1=v1,k3=v3",
    "get Port p1 external_ids",
    "set Port p1 external-ids:k4=v4",
    "get Port p1 external-ids",
    "set Port p1 external_ids={}",
    "set Port p1 external_ids=",
    "set Port p1 'external_ids={a=1'",
    "set Port p1 'external_ids=[a]'",
    "set Port p1 trunks=a",
    "set Port p1 tag=0x10",
    "set Port p1 tag=-1",
    "set Port p1 tag=4096",
    "set Port p1 trunks=1-5000",
    "set Port p1 bond_updelay=1.5",
    "set Interface p1 ofport_request=0",
    "set Interface p1 ofport_request=70000",
    "set Interface p1 ingress_policing_rate=1000 ingress_policing_burst=100",
    "get Interface p1 ingress_policing_rate ingress_policing_burst",
    "set Bridge br0 stp_enable=yes",
    "get Bridge br0 stp_enable",
    "set Bridge br0 stp_enable=on",
    "set Bridge br0 stp_enable=True",
    "set Bridge br0 stp_enable=0",
    "get Bridge br0 stp_enable",
    "set Port p1 vlan_mode=trunk",
    "set Port p1 vlan_mode=bogus",
    "set Port p1 vlan_mode='\"access\"'",
    "get Port p1 vlan_mode",
    "set Interface p1 mac='\"52:54:00:00:00:01\"'",
    "set Interface p1 mac=52\\:54\\:00\\:00\\:00\\:02",
    "get Interface p1 mac",
    "set Interface p1 'external-ids:attached-mac=\"%s\"'" % MAC,
    "set Interface p1 'external-ids:iface-id=\"%s\"'" % IFID,
    "set Interface p1 external-ids:vm-id=%s" % VM,
    "get Interface p1 external_ids",
    "get Interface p1 external_ids:vm-id",
    "set Port p1 qos=not-a-uuid",
    "set Port p1 qos=[]",
    "set Interface p1 type=internal options:peer=x options:remote_ip=10.1.2.3",
    "get Interface p1 options",
    "set Interface p1 options:key=flow",
    "set Interface p1 bfd:enable=true",
    "set Port p1 'other_config:é=ü'",
    "get Port p1 other_config:é",
    "set Port p1 other_config:\"\"=empty",
    "set Port p1 :k=v",
    "set Port p1 other_config:k:k2=v",
    "set Port p1 tag:x=1",
    "add Port p1 bond_updelay 0",            # scalar column, last command
    "add Port p1 bond_updelay 0 -- get Port p1 bond_updelay",
    "remove Port p1 other_config c d",
    "remove Port p1 tag 1 2 3",
    "get Port p1 other_config",
    "list Interface p1",
    "list Port p1",
]

# --- output formats and data modes ----------------------------------------
_FORMATS = []
for fmt in ("list", "table", "csv", "json", "html"):
    for data in ("string", "bare", "json"):
        _FORMATS.append("--format=%s --data=%s list Port" % (fmt, data))
        _FORMATS.append("--format=%s --data=%s --no-headings "
                        "--columns=name,tag,trunks,other_config,interfaces "
                        "find Port tag=10" % (fmt, data))
    _FORMATS.append("-f %s --columns=name,_uuid list Bridge" % fmt)
    _FORMATS.append("--format=%s --pretty --columns=name,other_config "
                    "list Port" % fmt)
    _FORMATS.append("--oneline --format=%s --columns=name list Port" % fmt)

SCRIPTS["formats"] = [
    "add-br br0 -- add-br fk br0 10",
    "add-port br0 p1 tag=10 trunks=1,2,3 'other_config:k=\"v 1\"' "
    "other_config:j=2",
    "add-port fk vif2 -- set Interface vif2 'error=\"no such device\"'",
    "add-port br0 'sp ace' -- add-port br0 123 -- add-port br0 true",
] + _FORMATS + [
    "--format=bogus list Port",
    "--data=bogus list Port",
    "-d bare --columns=name list Port",
    "--bare --columns=name find Port tag=10",
    "--bare list Port p1",
    "--bare get Port p1 trunks other_config",
    "--data=json get Port p1 trunks other_config",
    "--format=json get Port p1 trunks",
    "--no-headings --columns=_uuid find Port tag=10",
    "--max-column-width=5 --format=table --columns=name,other_config "
    "list Port p1",
    "--oneline get Port p1 other_config -- br-get-external-id br0 -- "
    "list-ports br0",
    "--oneline --format=json list Port p1 -- list Bridge br0",
    "--if-exists --format=list --data=json --no-headings "
    "--columns=statistics list Interface p1",
    "--if-exists --format=list --data=json --no-headings "
    "--columns=statistics list Interface nope",
    "--no-heading --columns=name list Bridge",
    "--columns=name,tag --format=table find Port",
    "list Open_vSwitch",
    "show",
]

# --- emer-reset -----------------------------------------------------------
SCRIPTS["emer-reset"] = [
    "add-br br0 -- add-port br0 p1 other_config:a=b "
    "-- set Interface p1 ingress_policing_rate=10 ingress_policing_burst=5",
    "set-controller br0 tcp:1.2.3.4:6653 -- set-fail-mode br0 secure "
    "-- set-manager ptcp:6640 -- set-ssl /k /c /ca",
    "set Bridge br0 other_config:hwaddr=00:11:22:33:44:55 "
    "other_config:x=y flood_vlans=1,2",
    "--id=@m create Mirror name=m1 select_all=true -- "
    "add Bridge br0 mirrors @m",
    "--id=@n create NetFlow targets='\"10.1.1.1:5566\"' -- "
    "set Bridge br0 netflow=@n",
    "--id=@q create QoS type=linux-htb -- set Port p1 qos=@q",
    "emer-reset",
    "list Bridge br0",
    "list Port p1",
    "get Interface p1 ingress_policing_rate ingress_policing_burst",
    "list Mirror",
    "list Controller",
    "list Manager",
    "list SSL",
    "list NetFlow",
    "list QoS",
    "emer-reset x",
    "show",
]

# --- integrators (OpenStack, ovs-ctl) and errors the server reports -------
SCRIPTS["integrators"] = [
    # ovs-ctl at start-up
    "-- init -- set Open_vSwitch . db-version=\"8.3.1\"",
    "set Open_vSwitch . ovs-version=\"3.1.0\" "
    "'external-ids:system-id=\"\\\"%s\\\"\"' "
    "'external-ids:rundir=\"\\\"/var/run/openvswitch\\\"\"' "
    "system-type='\"debian\"' system-version='\"12\"'" % VM,
    "get Open_vSwitch . external_ids ovs_version system_type",
    # os-vif's vsctl driver: one transaction, JSON output, one line each
    "--timeout=120 --oneline --format=json -- --may-exist add-br br-int "
    "-- set Bridge br-int datapath_type=netdev -- --may-exist add-port "
    "br-int tap1 -- set Port tap1 tag=4 -- set Interface tap1 "
    "external_ids:iface-id=%s external_ids:iface-status=active "
    "external_ids:attached-mac=fa:16:3e:00:00:01 external_ids:vm-uuid=%s "
    "type=internal -- set Interface tap1 mtu_request=1450" % (IFID, VM),
    "--timeout=120 --oneline --format=json -- --columns=mtu_request list "
    "Interface tap1",
    "--timeout=120 --oneline --format=json -- --columns=nocolumn list "
    "Interface",
    "--timeout=120 --oneline --format=json -- list Bridge nobr",
    "--timeout=120 --oneline --format=json -- list-br -- list-ports br-int "
    "-- br-get-external-id br-int bridge-id -- port-to-br tap1",
    "--may-exist add-port br-int int-p -- set Interface int-p type=patch "
    "options:peer=phy-p -- --may-exist add-br br-phy -- --may-exist "
    "add-port br-phy phy-p -- set Interface phy-p type=patch "
    "options:peer=int-p",
    # neutron's manager setup, then again (index violation from the server)
    "--timeout=5 --id=@manager -- create Manager "
    "'target=\"ptcp:6640:127.0.0.1\"' -- add Open_vSwitch . manager_options "
    "@manager",
    "--timeout=5 --id=@manager -- create Manager "
    "'target=\"ptcp:6640:127.0.0.1\"' -- add Open_vSwitch . manager_options "
    "@manager",
    "--timeout=5 --id=@manager -- get Manager ptcp:6640:127.0.0.1 "
    "inactivity_probe",
    "--timeout=5 -- set Manager ptcp:6640:127.0.0.1 inactivity_probe=30000",
    "--id=@m get Manager ptcp:6640:127.0.0.1 -- remove Open_vSwitch . "
    "manager_options @m",
    "get-manager",
    # server-side errors: duplicate name, dangling reference, maxRows
    "--id=@b create Bridge name=br-int -- add Open_vSwitch . bridges @b",
    "set Port tap1 qos=01234567-89ab-cdef-0123-456789abcdef",
    "create Open_vSwitch",
    "--id=@s create SSL private_key=a certificate=b ca_cert=c -- "
    "set Open_vSwitch . ssl=@s",
    "--id=@s create SSL private_key=a certificate=b ca_cert=c -- "
    "set Open_vSwitch . ssl=@s",
    "list SSL",
    # ovs-ctl --delete-transient-ports
    "set Port tap1 other_config:transient=true",
    "--bare -- --columns=name find port other_config:transient=true",
    "-- del-port tap1",
    # find on map keys and set operators
    "set Interface int-p external_ids:n=5 -- set Interface phy-p "
    "external_ids:n=7",
    "--columns=name find Interface external_ids:n=5",
    "--columns=name find Interface 'external_ids:n>5'",
    "--columns=name find Interface 'external_ids{>=}{n=5}'",
    "--columns=name find Interface 'options{=}{peer=phy-p}'",
    "--columns=name find Interface 'type{in}[patch,internal]'",
    "wait-until Interface int-p options:peer=phy-p",
    "wait-until Interface int-p 'external_ids:n>=5' type=patch",
    "show",
]

# --- generated sequences --------------------------------------------------
# Random (but seeded, so always the same) sequences over a small set of
# names, so that commands meet each other's leftovers: ports on fake
# bridges, bonds losing members, bridges deleted under their ports, and
# about half of the commands failing.  Each step is one or two commands.
_BRIDGES = ["br0", "br1"]
_FAKES = ["fk1", "fk2"]
_PORTS = ["p0", "p1", "p2", "p3"]
_IFACES = ["p0", "p1", "e1", "e2", "e3"]
_VLANS = ["0", "5", "10", "4095", "4096"]
_TEMPLATES = [
    "add-br {br}", "--may-exist add-br {br}", "add-br {fk} {br} {vlan}",
    "--may-exist add-br {fk} {br} {vlan}", "del-br {any}",
    "--if-exists del-br {any}", "add-port {any} {port}",
    "add-port {any} {port} tag={vlan}", "--may-exist add-port {any} {port}",
    "del-port {port}", "del-port {any} {port}",
    "--if-exists del-port {any} {port}", "--with-iface del-port {iface}",
    "add-bond {br} {port} {iface} {iface2}",
    "--may-exist add-bond {any} {port} {iface} {iface2}",
    "add-bond-iface {port} {iface}", "--may-exist add-bond-iface {port} "
    "{iface}", "del-bond-iface {port} {iface}",
    "--if-exists del-bond-iface {iface}", "list-ports {any}",
    "list-ifaces {any}", "port-to-br {port}", "iface-to-br {iface}",
    "br-exists {any}", "br-to-vlan {any}", "br-to-parent {any}", "list-br",
    "--fake list-br", "--real list-br", "set Port {port} tag={vlan}",
    "set Port {port} trunks={vlan},{vlan2}", "get Port {port} tag trunks",
    "br-set-external-id {any} k{n} v{n}", "br-get-external-id {any}",
    "br-get-external-id {any} k{n}",
    "--if-exists get Interface {iface} external_ids:k{n}",
    "set Interface {iface} external_ids:k{n}=v{n}",
    "remove Port {port} trunks {vlan}", "clear Port {port} trunks",
    "--columns=name,tag,trunks find Port tag={vlan}",
    "--bare --columns=name list Interface", "show",
]


def _is_unordered(template):
    return template == "show" or " list " in " " + template \
        or " find " in " " + template


def _generated(seed, n_steps, templates=None, first="add-br br0"):
    import random
    rnd = random.Random(seed)
    templates = templates or _TEMPLATES

    def one(last=True):
        # Output whose order the suite canonicalises (show, list, find)
        # must be the last of a chain.
        t = rnd.choice([t for t in templates
                        if last or not _is_unordered(t)])
        fields = dict(br=rnd.choice(_BRIDGES), fk=rnd.choice(_FAKES),
                      any=rnd.choice(_BRIDGES + _FAKES + ["nobr"]),
                      port=rnd.choice(_PORTS), iface=rnd.choice(_IFACES),
                      iface2=rnd.choice(_IFACES), vlan=rnd.choice(_VLANS),
                      vlan2=rnd.choice(_VLANS), n=rnd.randint(1, 2))
        if "{mode}" in t:
            fields["mode"] = rnd.choice(["secure", "standalone", "bogus"])
        return t.format(**fields)
    steps = [first]
    for _ in range(n_steps):
        steps.append(one() if rnd.random() < 0.7
                     else one(last=False) + " -- " + one())
    return steps


# Controllers, fail modes, managers, SSL, mirrors, QoS, NetFlow, sFlow and
# the database commands on those tables, mixed with bridge changes.
_MISC_TEMPLATES = [
    "set-controller {br} tcp:1.2.3.{n}:6653", "del-controller {any}",
    "get-controller {any}", "set-fail-mode {any} {mode}",
    "get-fail-mode {any}", "del-fail-mode {any}", "set-manager ptcp:664{n}",
    "get-manager", "del-manager", "set-ssl /k{n} /c /ca", "get-ssl",
    "del-ssl", "--id=@m create Mirror name=m{n} select_all=true -- "
    "add Bridge {br} mirrors @m", "destroy Mirror m{n}", "list Mirror",
    "--columns=name,select_all find Mirror", "get Mirror m{n} name",
    "--if-exists get Mirror m{n} name",
    "set Mirror m{n} output_port=@p -- --id=@p get Port {port}",
    "list Controller", "--columns=target,inactivity_probe list Manager",
    "set Controller {br} inactivity_probe=5000",
    "get Controller {br} target",
    "--id=@q create QoS type=linux-htb -- set Port {port} qos=@q",
    "clear Port {port} qos", "list QoS", "--all destroy QoS",
    "-f table --columns=name,fail_mode list Bridge",
    "-f csv --columns=name,controller find Bridge",
    "--format=json --columns=name,ports list Bridge", "emer-reset", "show",
    "--oneline get-controller {any} -- get-manager -- get-fail-mode {any}",
    "add-br {br}", "add-port {br} {port}", "del-port {port}",
    "add-br {fk} {br} 1{n}", "del-br {any}",
    "set Bridge {br} netflow=@n -- --id=@n create NetFlow "
    "'targets=\"10.0.0.{n}:2055\"'", "list NetFlow",
    "get NetFlow {br} targets", "clear Bridge {br} netflow",
    "set Bridge {br} sflow=@s -- --id=@s create sFlow "
    "'targets=\"10.0.0.{n}:6343\"' agent=lo", "list sFlow",
    "get sFlow {br} agent", "br-set-external-id {any} k{n} v{n}",
    "br-get-external-id {any}", "set Open_vSwitch . other_config:k{n}=v",
    "get Open_vSwitch . other_config",
    "--if-exists set Mirror m{n} select_all=false",
    "remove Bridge {br} mirrors @m -- --id=@m get Mirror m{n}",
]


for _seed in (1, 2, 3):
    SCRIPTS["generated-%d" % _seed] = _generated(_seed, 120)
SCRIPTS["generated-misc"] = _generated(
    7, 150, _MISC_TEMPLATES, "add-br br0 -- add-port br0 p0 -- "
    "add-br fk1 br0 10")

# Random column values: set/add/remove/find with awkward values on every
# kind of column (integers with ranges, enums, booleans, optional values,
# sets, maps, references).
_PORT_COLUMNS = ["tag", "trunks", "vlan_mode", "other_config",
                 "external_ids", "bond_updelay", "lacp", "qos", "mac",
                 "bond_fake_iface", "cvlans", "protected"]
_IFACE_COLUMNS = ["mtu_request", "options", "type", "ofport_request", "mac",
                  "bfd", "ingress_policing_rate", "lldp", "external_ids",
                  "admin_state"]
_VALUES = ["1", "-1", "0", "4095", "4096", "1.5", "abc", '""', '"x"',
           '"unterminated', "[]", "{}", "[1,2]", "1,2", "1 2", "{a=b}",
           "a=b", "a=b,c=d", "{a=b c=d}", "[a=b]", "{a}", "true", "True",
           "yes", "01", "0x1", "1-3", "3-1", "[1-3,5]", "a:b", '"a:b"',
           "a\\:b", '{"k:1"=v}', '{k="v,w"}', "{k=[1]}", '["a","b"]', "@x",
           "01234567-89ab-cdef-0123-456789abcdef", "é", "{=v}", "{k=}",
           "k=", "=", ",", "[,]", "{,}", "a b", "-", "--", "1e3", "inf",
           "nan", "99999999999999999999", "-9223372036854775808"]


def _generated_values(seed, n_steps):
    import random
    rnd = random.Random(seed)
    steps = [("add-br br0 -- add-port br0 p1",)]
    for _ in range(n_steps):
        r, v = rnd.random(), rnd.choice(_VALUES)
        if r < 0.35:
            argv = ["set", "Port", "p1", "%s=%s" % (rnd.choice(_PORT_COLUMNS),
                                                     v)]
        elif r < 0.55:
            argv = ["set", "Interface", "p1",
                    "%s=%s" % (rnd.choice(_IFACE_COLUMNS), v)]
        elif r < 0.7:
            argv = ["set", "Port", "p1", "%s:%s=%s" % (
                rnd.choice(["other_config", "external_ids", "tag"]),
                rnd.choice(["k", '"a:b"', "", "k=v", '"q"']), v)]
        elif r < 0.8:
            argv = ["add", "Port", "p1", rnd.choice(_PORT_COLUMNS), v]
        elif r < 0.9:
            argv = ["remove", "Port", "p1", rnd.choice(_PORT_COLUMNS), v]
        else:
            argv = ["find", "Port", "%s%s%s" % (
                rnd.choice(_PORT_COLUMNS),
                rnd.choice(["=", "!=", "<", "{>=}", "{in}", "{not-in}"]), v)]
        steps.append((argv,))
    return steps


SCRIPTS["generated-values"] = _generated_values(1, 300)


# --- names that are not UTF-8 (the server's constraint error, or no row) --
# "\udcXX" is byte 0xXX on the command line (surrogateescape).
SCRIPTS["not-utf8"] = [
    "add-br br0",
    "add-br a\udcffb",
    "br-exists \udcff",
    "br-set-external-id br0 \udcfe v",
    "add-port br0 p\udcc3",
    "add-br \udcff -- br-exists \udcff",
    "list-br",
]
