// Apache Commons Net's FTPSClient against ftpsd, for
// tests/integration/test_commons_net.py (compiled there with javac).
//   java -cp commons-net.jar:DIR FtpsCheck explicit|implicit HOST PORT USER
//        PASS TRUSTSTORE.p12 STOREPASS UPLOAD NAME PROT
// Logs in, sends PBSZ 0 + PROT P when PROT is "P" ("-": none, as in
// implicit mode where ftpsd starts in PROT P), uploads UPLOAD as NAME,
// lists, downloads it to UPLOAD.back, renames and deletes it.  Prints "ok"
// or the failing step with the server's reply, and exits 1.
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.KeyStore;

import javax.net.ssl.TrustManagerFactory;

import org.apache.commons.net.ftp.FTP;
import org.apache.commons.net.ftp.FTPFile;
import org.apache.commons.net.ftp.FTPReply;
import org.apache.commons.net.ftp.FTPSClient;

public class FtpsCheck {
	static FTPSClient ftp;

	static void check(boolean ok, String step) {
		if (!ok) {
			System.out.println(step + " failed: " +
			    ftp.getReplyString().trim());
			System.exit(1);
		}
	}

	public static void main(String[] a) throws Exception {
		boolean implicit = a[0].equals("implicit");
		KeyStore ks = KeyStore.getInstance("PKCS12");
		try (InputStream in = new FileInputStream(a[5])) {
			ks.load(in, a[6].toCharArray());
		}
		TrustManagerFactory tmf = TrustManagerFactory.getInstance(
		    TrustManagerFactory.getDefaultAlgorithm());
		tmf.init(ks);
		ftp = new FTPSClient("TLS", implicit);
		ftp.setTrustManager(tmf.getTrustManagers()[0]);
		ftp.setConnectTimeout(30000);
		ftp.setDefaultTimeout(30000);
		ftp.connect(a[1], Integer.parseInt(a[2]));
		check(FTPReply.isPositiveCompletion(ftp.getReplyCode()),
		    "connect");
		check(ftp.login(a[3], a[4]), "login");
		if (a[9].equals("P")) {
			ftp.execPBSZ(0);
			ftp.execPROT("P");
			check(ftp.getReplyCode() == 200, "PROT P");
		}
		ftp.enterLocalPassiveMode();
		check(ftp.setFileType(FTP.BINARY_FILE_TYPE), "TYPE I");
		try (InputStream in = new FileInputStream(a[7])) {
			check(ftp.storeFile(a[8], in), "STOR");
		}
		boolean listed = false;
		FTPFile[] files = ftp.listFiles();
		check(files != null, "LIST");
		for (FTPFile f : files)
			listed |= f.getName().equals(a[8]);
		check(listed, "LIST (" + a[8] + " not listed)");
		try (OutputStream out = new FileOutputStream(a[7] + ".back")) {
			check(ftp.retrieveFile(a[8], out), "RETR");
		}
		check(ftp.rename(a[8], a[8] + ".renamed"), "RNFR/RNTO");
		check(ftp.deleteFile(a[8] + ".renamed"), "DELE");
		ftp.logout();
		ftp.disconnect();
		System.out.println("ok");
	}
}
