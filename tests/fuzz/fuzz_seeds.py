"""Small files per format that use most of each grammar, as seeds for mutation.

Each seed is a valid file; the file name picks the format, as it does for
users. They are short so that a mutation often lands in a construct rather
than in a comment.
"""

from __future__ import annotations

SEEDS: dict[str, str] = {
    "iptables.rules.v4": """\
*nat
:PREROUTING ACCEPT [0:0]
-A PREROUTING -p tcp --dport 2525 -j REDIRECT --to-ports 25
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:mail - [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p icmp --icmp-type echo-request -m limit --limit 5/s -j ACCEPT
-A INPUT -s 10.0.0.0/8 -p tcp -m multiport --dports 22,443,19000:19010 -j ACCEPT
-A INPUT ! -s 192.0.2.0/24 -p udp --sport 53 --dport 1024:65535 -j ACCEPT
-A INPUT -m iprange --src-range 10.0.0.1-10.0.0.9 -j mail
-A INPUT -m set --match-set blocked src -j DROP
-A mail -p tcp --dport 25 -j ACCEPT
-A mail -j RETURN
-A INPUT -j REJECT --reject-with icmp-port-unreachable
COMMIT
""",
    "nftables.nft": """\
define trusted = { 10.0.0.0/8, 192.168.0.0/16 }
define mail = 25
table inet filter {
  set admins {
    type ipv4_addr
    flags interval
    elements = { 10.0.50.0/24, 10.0.60.1-10.0.60.9 }
  }
  chain input {
    type filter hook input priority 0; policy drop;
    iif "lo" accept
    ct state established,related accept
    ct state invalid drop
    ip saddr @admins tcp dport { 22, 443 } accept
    ip saddr $trusted tcp dport 19000-19010 accept
    ip6 nexthdr icmpv6 icmpv6 type { echo-request, nd-neighbor-solicit } accept
    tcp dport $mail counter accept
    meta l4proto udp udp dport 53 limit rate 10/second accept
    jump extra
    reject with icmpx type port-unreachable
  }
  chain extra {
    ip saddr . tcp dport { 10.0.0.1 . 1433, 10.0.0.2 . 389 } accept
    return
  }
}
table ip nat {
  chain prerouting { type nat hook prerouting priority -100; }
}
""",
    "seed.pf.conf": """\
ext_if = "em0"
mail_ports = "{ smtp, 587 }"
table <trusted> const { 10.0.0.0/8, 192.168.1.0/24 }
table <bad> persist
set skip on lo0
set block-policy drop
block all
block in quick from <bad>
antispoof for $ext_if
pass out keep state
pass in on $ext_if proto tcp to port $mail_ports
pass in quick on $ext_if proto tcp from <trusted> to ($ext_if) port { 22, 443 }
pass in proto udp from any port 53 to any port 1024:65535
pass in proto tcp to port 19000 >< 19011
block in proto tcp to port { 135:139, 445 }
anchor "mail/*"
anchor "inline" {
  pass in proto tcp to port 1433
}
""",
    "seed.asa": """\
: Saved
ASA Version 9.12(4)
hostname edge
name 10.0.0.10 array-manager
interface GigabitEthernet0/0
 nameif outside
 security-level 0
 ip address 198.51.100.1 255.255.255.0
interface GigabitEthernet0/1
 nameif inside
 security-level 100
 ip address 10.0.0.1 255.255.255.0
object network node-1
 host 198.51.100.10
object network mgmt
 subnet 10.0.50.0 255.255.255.0
object service smtp
 service tcp destination eq smtp
object-group network nodes
 network-object object node-1
 network-object host 198.51.100.11
object-group service mail-ports tcp
 port-object eq smtp
 port-object range 19000 19010
object-group protocol tcp-udp
 protocol-object tcp
 protocol-object udp
object-group network all-nodes
 group-object nodes
access-list outside_in extended permit tcp any object-group nodes object-group mail-ports
access-list outside_in extended permit object smtp any object node-1
access-list outside_in extended permit object-group tcp-udp any host array-manager eq 53
access-list outside_in extended permit icmp any any echo-reply
access-list outside_in extended deny ip any any log
access-list inside_in extended permit ip object mgmt any
access-group outside_in in interface outside
access-group inside_in in interface inside
""",
    "seed.ios": """\
hostname edge
ip access-list extended OUTSIDE-IN
 10 permit tcp any host 198.51.100.10 eq smtp
 20 permit tcp any host 198.51.100.10 range 19000 19010
 30 permit tcp any any established
 40 permit udp host 192.0.2.53 eq domain any gt 1023
 50 permit icmp any any echo-reply
 60 deny tcp any any range 135 139 log
 70 deny ip any any
access-list 101 permit tcp 10.0.50.0 0.0.0.255 any eq 22
access-list 101 deny ip any any
object-group network NODES
 host 198.51.100.11
 198.51.100.0 255.255.255.240
interface GigabitEthernet0/0
 ip address 198.51.100.1 255.255.255.0
 ip access-group OUTSIDE-IN in
interface GigabitEthernet0/1
 ip address 10.0.0.1 255.255.255.0
 ip access-group 101 in
""",
    "seed.tf": """\
variable "mail_port" {
  type    = number
  default = 25
}

locals {
  trusted = ["10.0.0.0/8", "192.168.0.0/16"]
  ports   = { smtp = 25, submission = 587 }
}

resource "aws_security_group" "node" {
  name = "node-${var.mail_port}"

  dynamic "ingress" {
    for_each = local.ports
    content {
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = ["0.0.0.0/0"]
    }
  }

  ingress {
    from_port   = 19000
    to_port     = 19010
    protocol    = "tcp"
    cidr_blocks = concat(local.trusted, [cidrsubnet("10.1.0.0/16", 8, 2)])
  }

  egress {
    from_port        = 0
    to_port          = 0
    protocol         = "-1"
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = ["::/0"]
  }
}

resource "aws_security_group_rule" "sql" {
  type              = "ingress"
  security_group_id = aws_security_group.node.id
  from_port         = 1433
  to_port           = 1433
  protocol          = "tcp"
  cidr_blocks       = var.mail_port > 0 ? ["0.0.0.0/0"] : []
}

resource "azurerm_network_security_rule" "ldap" {
  name                        = "ldap"
  priority                    = 100
  direction                   = "Inbound"
  access                      = "Allow"
  protocol                    = "Tcp"
  source_port_range           = "*"
  destination_port_ranges     = ["389", "636"]
  source_address_prefix       = "Internet"
  destination_address_prefix  = "*"
  network_security_group_name = "nsg"
  resource_group_name         = "rg"
}

resource "google_compute_firewall" "smtp" {
  name    = "smtp"
  network = "default"
  allow {
    protocol = "tcp"
    ports    = ["25", "19000-19010"]
  }
  source_ranges = ["0.0.0.0/0"]
}
""",
    "seed.cfn.yaml": """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  MailPort:
    Type: Number
    Default: 25
Conditions:
  Always: !Equals [a, a]
Resources:
  NodeGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: !Sub "node ${AWS::Region}"
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: !Ref MailPort
          ToPort: !Ref MailPort
          CidrIp: 0.0.0.0/0
        - IpProtocol: "-1"
          CidrIpv6: ::/0
        - IpProtocol: tcp
          FromPort: 19000
          ToPort: 19010
          CidrIp: !If [Always, 10.0.0.0/8, !Ref "AWS::NoValue"]
  SqlIngress:
    Type: AWS::EC2::SecurityGroupIngress
    Properties:
      GroupId: !GetAtt NodeGroup.GroupId
      IpProtocol: tcp
      FromPort: 1433
      ToPort: 1433
      CidrIp: !Select [0, [0.0.0.0/0, 10.0.0.0/8]]
""",
    "seed.cfn.json": """\
{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {
    "Node": {
      "Type": "AWS::EC2::SecurityGroup",
      "Properties": {
        "GroupDescription": "node",
        "SecurityGroupIngress": [
          {"IpProtocol": "tcp", "FromPort": 25, "ToPort": 25, "CidrIp": "0.0.0.0/0"},
          {"IpProtocol": "udp", "FromPort": 53, "ToPort": 53,
           "CidrIp": {"Fn::Join": ["", ["10.0.0.0", "/8"]]}}
        ]
      }
    }
  }
}
""",
    "windows-netsh.txt": """\
Domain Profile Settings:
----------------------------------------------------------------------
State                                 ON
Firewall Policy                       BlockInbound,AllowOutbound

Public Profile Settings:
----------------------------------------------------------------------
State                                 ON
Firewall Policy                       BlockInbound,AllowOutbound

Rule Name:                            SEG SMTP
----------------------------------------------------------------------
Enabled:                              Yes
Direction:                            In
Profiles:                             Domain,Private,Public
Grouping:
LocalIP:                              Any
RemoteIP:                             Any
Protocol:                             TCP
LocalPort:                            25,19000-19010
RemotePort:                           Any
Edge traversal:                       No
Action:                               Allow

Rule Name:                            Block NetBIOS
----------------------------------------------------------------------
Enabled:                              Yes
Direction:                            In
Profiles:                             Public
LocalIP:                              Any
RemoteIP:                             LocalSubnet,10.0.0.0/255.0.0.0
Protocol:                             UDP
LocalPort:                            137-139
RemotePort:                           Any
Action:                               Block
Ok.
""",
    "windows-rules.csv": """\
"Name","DisplayName","Enabled","Direction","Profile","Action","Protocol","LocalPort",\
"RemotePort","IcmpType","LocalAddress","RemoteAddress","Program","Service"
"SMTP-In","SEG SMTP","True","Inbound","Any","Allow","TCP","25","Any","Any","Any",\
"Any","Any","Any"
"Ctl-In","Controller","True","Inbound","Domain, Private","Allow","TCP","19001-19005",\
"Any","Any","Any","10.0.0.10","Any","Any"
"Ping","Echo","True","Inbound","Public","Allow","ICMPv4","Any","Any","8:*","Any",\
"Any","Any","Any"
"NB-Block","NetBIOS","True","Inbound","Any","Block","UDP","137,138","Any","Any",\
"Any","Internet","Any","Any"
""",
}
