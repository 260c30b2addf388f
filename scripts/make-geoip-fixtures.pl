#!/usr/bin/perl
# Writes the GeoIP test fixtures in tests/data/geoip/ (small, committed):
#   GeoLite2-City-Test.mmdb      database_type "GeoLite2-City"
#   GeoLite2-ASN-Test.mmdb       database_type "GeoLite2-ASN"
#   DBIP-Country-Lite-Test.mmdb  database_type "DBIP-Country-Lite"
#   dbip-asn/DBIP-ASN-Lite-Test.mmdb  database_type "DBIP-ASN-Lite (compat=GeoLite2-ASN)", the same
#                                networks with " (DB-IP)" after each organisation; in its own
#                                directory so that --geoip-dir tests/data/geoip picks GeoLite2-ASN
#   tor/geoip, tor/geoip6        Debian tor-geoipdb format (LOW,HIGH,CC)
# All are IPv6 databases holding IPv4 (::a.b.c.d, aliased from ::ffff:0:0/96) and IPv6 networks.
# The values are made up for tests; tests/data/geoip/README.md lists them, and must be kept in
# step with %networks below.
#
# Regenerate (Debian package libmaxmind-db-writer-perl):
#   apt-get install libmaxmind-db-writer-perl
#   perl scripts/make-geoip-fixtures.pl            # or: perl scripts/make-geoip-fixtures.pl OUTDIR
# The build epoch is fixed, so the output is the same on every run.
use strict;
use warnings;
use utf8;

use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Spec;
use MaxMind::DB::Writer::Tree;
use Socket qw(AF_INET6 inet_aton inet_ntop inet_pton);

my $out = $ARGV[0] // File::Spec->catdir(dirname(__FILE__), '..', 'tests', 'data', 'geoip');
my $build_epoch = 1700000000;    # 2023-11-14T22:13:20Z

# network => [iso, country name, city name (undef: none), ASN (undef: none), AS organisation]
my %networks = (
    '81.2.69.0/24'    => ['GB', 'United Kingdom', 'London',    20712,  'Andrews & Arnold Ltd'],
    '89.160.20.0/24'  => ['SE', 'Sweden',         'Linköping', 29518,  'Bredband2 AB'],
    '175.16.199.0/24' => ['CN', 'China',          'Changchun', 4837,   'CHINA UNICOM China169 Backbone'],
    '200.160.2.0/24'  => ['BR', 'Brazil',         'São Paulo', 22548,  'Núcleo de Inf. e Coord. do Ponto BR'],
    '216.160.83.0/24' => ['US', 'United States',  undef,       209,    'CenturyLink Communications, LLC'],
    '2a02:cf40::/29'  => ['CH', 'Switzerland',    'Zürich',    559,    'SWITCH, Swiss Education and Research Network'],
    '2001:218::/32'   => ['JP', 'Japan',          '東京',      2914,   'NTT America, Inc.'],
    '2001:12ff::/32'  => ['BR', 'Brazil',         'São Paulo', 22548,  'Núcleo de Inf. e Coord. do Ponto BR'],
);
# Only in the ASN databases (no location anywhere).
my %asn_only = (
    '1.128.0.0/11'   => [1221, 'Telstra Pty Ltd'],
    '2c0f:f000::/32' => [37100, 'SEACOM-AS'],
);
# Only in the Country database and the tor files (no city, no ASN).
my %country_only = (
    '41.0.0.0/24'    => ['ZA', 'South Africa'],
    '2c0e:2000::/32' => ['EG', 'Egypt'],
);

my %types = (
    city                           => 'map',
    country                        => 'map',
    registered_country             => 'map',
    continent                      => 'map',
    names                          => 'map',
    en                             => 'utf8_string',
    iso_code                       => 'utf8_string',
    code                           => 'utf8_string',
    geoname_id                     => 'uint32',
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
);

sub new_tree {
    my ($type) = @_;
    my $tree = MaxMind::DB::Writer::Tree->new(
        ip_version            => 6,
        record_size           => 24,
        database_type         => $type,
        languages             => ['en'],
        description           => { en => "flowtop test fixture ($type); made-up data" },
        map_key_type_callback => sub { $types{ $_[0] } // die "no type for key $_[0]" },
        alias_ipv6_to_ipv4    => 1,
    );
    $tree->_set_build_epoch($build_epoch);
    return $tree;
}

sub country_record {
    my ($iso, $name) = @_;
    my $c = { iso_code => $iso, names => { en => $name } };
    return (country => $c, registered_country => {%$c});
}

sub write_tree {
    my ($tree, $file) = @_;
    my $path = File::Spec->catfile($out, $file);
    open my $fh, '>:raw', $path or die "$path: $!\n";
    $tree->write_tree($fh);
    close $fh or die "$path: $!\n";
    print "wrote $path\n";
}

make_path(map { File::Spec->catdir($out, $_) } qw(tor dbip-asn));

my $city    = new_tree('GeoLite2-City');
my $asn     = new_tree('GeoLite2-ASN');
my $country = new_tree('DBIP-Country-Lite');
my $dbip_asn = new_tree('DBIP-ASN-Lite (compat=GeoLite2-ASN)');
for my $net (sort keys %networks) {
    my ($iso, $cname, $cityname, $number, $org) = @{ $networks{$net} };
    my %rec = country_record($iso, $cname);
    $rec{city} = { names => { en => $cityname } } if defined $cityname;
    $city->insert_network($net, \%rec);
    $country->insert_network($net, { country_record($iso, $cname) });
    $asn->insert_network($net,
        { autonomous_system_number => $number, autonomous_system_organization => $org });
    # DB-IP's organisation names differ from MaxMind's: tests can tell which file answered.
    $dbip_asn->insert_network($net,
        { autonomous_system_number => $number, autonomous_system_organization => "$org (DB-IP)" });
}
for my $net (sort keys %asn_only) {
    my ($number, $org) = @{ $asn_only{$net} };
    $asn->insert_network($net,
        { autonomous_system_number => $number, autonomous_system_organization => $org });
    $dbip_asn->insert_network($net,
        { autonomous_system_number => $number, autonomous_system_organization => "$org (DB-IP)" });
}
for my $net (sort keys %country_only) {
    $country->insert_network($net, { country_record(@{ $country_only{$net} }) });
}
write_tree($city,     'GeoLite2-City-Test.mmdb');
write_tree($asn,      'GeoLite2-ASN-Test.mmdb');
write_tree($country,  'DBIP-Country-Lite-Test.mmdb');
write_tree($dbip_asn, File::Spec->catfile('dbip-asn', 'DBIP-ASN-Lite-Test.mmdb'));

# tor-geoipdb: every network with a country, as LOW,HIGH,CC.
sub v4_range {
    my ($net) = @_;
    my ($addr, $len) = split m{/}, $net;
    my $low = unpack 'N', inet_aton($addr);
    my $size = 2**(32 - $len);
    return ($low, $low + $size - 1);
}

sub v6_range {
    my ($net) = @_;
    my ($addr, $len) = split m{/}, $net;
    my $low = inet_pton(AF_INET6, $addr);
    my $high = $low;
    vec($high, int($_ / 8) * 8 + 7 - $_ % 8, 1) = 1 for $len .. 127;
    return (inet_ntop(AF_INET6, $low), inet_ntop(AF_INET6, $high));
}

my %cc = ((map { $_ => $networks{$_}[0] } keys %networks),
          (map { $_ => $country_only{$_}[0] } keys %country_only));
my $header = "# flowtop test fixture in Debian tor-geoipdb format (made-up data)\n"
    . "# written by scripts/make-geoip-fixtures.pl\n";
my $v4 = my $v6 = $header;
for my $net (sort { (v4_range($a))[0] <=> (v4_range($b))[0] } grep { !/:/ } keys %cc) {
    $v4 .= join(',', v4_range($net), $cc{$net}) . "\n";
}
for my $net (sort grep { /:/ } keys %cc) {
    $v6 .= join(',', v6_range($net), $cc{$net}) . "\n";
}
for ([geoip => $v4], [geoip6 => $v6]) {
    my $path = File::Spec->catfile($out, 'tor', $_->[0]);
    open my $fh, '>', $path or die "$path: $!\n";
    print {$fh} $_->[1];
    close $fh or die "$path: $!\n";
    print "wrote $path\n";
}
