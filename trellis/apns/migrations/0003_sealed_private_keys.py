# Private keys are stored encrypted from now on; the columns say so. Rows
# written before hold plain PEM, which still reads and is sealed at the next
# start (manage.py trellis_setup) or rotation (manage.py rotate_secret_keys).

from django.db import migrations, models

SEALED_HELP = (
    "The PEM private key, encrypted with TRELLIS_SECRET_KEYS "
    "(plain PEM if stored before encryption; sealed at the next start)."
)


class Migration(migrations.Migration):

    dependencies = [
        ("apns", "0002_push_certificate_requests"),
    ]

    operations = [
        migrations.RenameField(
            model_name="pushcertificate",
            old_name="private_key_pem",
            new_name="sealed_private_key",
        ),
        migrations.AlterField(
            model_name="pushcertificate",
            name="sealed_private_key",
            field=models.TextField(help_text=SEALED_HELP),
        ),
        migrations.RenameField(
            model_name="pushcertificaterequest",
            old_name="private_key_pem",
            new_name="sealed_private_key",
        ),
        migrations.AlterField(
            model_name="pushcertificaterequest",
            name="sealed_private_key",
            field=models.TextField(help_text=SEALED_HELP),
        ),
    ]
