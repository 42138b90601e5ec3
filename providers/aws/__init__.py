"""The aws backend: EC2 and ELBv2 through boto3."""
