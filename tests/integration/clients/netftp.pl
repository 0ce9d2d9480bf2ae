#!/usr/bin/perl
# Perl Net::FTP (libnet) + IO::Socket::SSL against ftpsd, for
# tests/integration/test_perl_ftp.py.  Usage:
#   netftp.pl explicit|implicit HOST PORT USER PASS CAFILE UPLOAD NAME [TLS]
# Logs in (AUTH TLS + PBSZ/PROT P in explicit mode; implicit mode sends
# neither, as Net::FTP does with SSL => 1), uploads UPLOAD as NAME,
# lists, downloads it back to UPLOAD.back, renames it and deletes it.
# TLS (e.g. TLSv1_2) pins IO::Socket::SSL's SSL_version.
# Prints "ok" or dies with the server's last reply.
use strict;
use warnings;
use Net::FTP;

my ($mode, $host, $port, $user, $pass, $ca, $upload, $name, $version) =
    @ARGV;
die "usage: netftp.pl explicit|implicit HOST PORT USER PASS CAFILE " .
    "UPLOAD NAME [TLS]\n" unless defined $name;

my %tls = (SSL_ca_file => $ca, SSL_verifycn_name => 'localhost',
    (defined $version ? (SSL_version => $version) : ()));
my $ftp = Net::FTP->new($host, Port => $port, Passive => 1, Timeout => 30,
    ($mode eq 'implicit' ? (SSL => 1) : ()), %tls)
    or die "connect: $@\n";
sub fail { die "$_[0]: " . $ftp->code . " " . $ftp->message; }
if ($mode eq 'explicit') {
	$ftp->starttls() or fail("starttls");
}
$ftp->login($user, $pass) or fail("login");
$ftp->binary() or fail("binary");
$ftp->put($upload, $name) or fail("put");
my @names = $ftp->ls() or fail("ls");
grep { $_ eq $name } @names or die "ls: $name not listed (@names)\n";
$ftp->get($name, "$upload.back") or fail("get");
$ftp->rename($name, "$name.renamed") or fail("rename");
$ftp->delete("$name.renamed") or fail("delete");
$ftp->quit();
print "ok\n";
